package sim

import "errors"

const maskDayStory = "TODO"
const counterfeitStory = "TODO"
const donatedStory = "TODO"

func buildMaskDay(s *story) error     { return errors.New("not yet") }
func buildCounterfeit(s *story) error { return errors.New("not yet") }
func buildDonated(s *story) error     { return errors.New("not yet") }
