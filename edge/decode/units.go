package decode

import (
	"math"
	"strings"
)

// Plausible temperatures, in °C, after conversion: a cold-chain sensor
// reading outside them is broken or misconfigured, not a measurement.
const (
	MinCelsius = -100.0
	MaxCelsius = 100.0
)

// tempUnit is a temperature unit a sensor may name.
type tempUnit struct {
	code      string // UN/CEFACT Recommendation 20 code: CEL, FAH, KEL
	toCelsius func(float64) float64
}

var (
	celsius    = tempUnit{"CEL", func(v float64) float64 { return v }}
	fahrenheit = tempUnit{"FAH", func(v float64) float64 { return roundHundredth((v - 32) / 9 * 5) }}
	kelvin     = tempUnit{"KEL", func(v float64) float64 { return roundHundredth(v - 273.15) }}
)

// roundHundredth rounds a converted temperature to 0.01 °C, finer than any
// cold-chain logger measures, so conversion noise (277.35 K = 4.2000000001
// °C) does not reach the event.
func roundHundredth(v float64) float64 {
	if math.Abs(v) > 1e12 { // far outside any plausible range; v*100 could overflow
		return v
	}
	return math.Round(v*100) / 100
}

// tempUnits are the accepted spellings (compared case-insensitively): the
// symbol with or without the degree sign, the single Unicode characters,
// and the UN/CEFACT codes EPCIS uses for uom.
var tempUnits = map[string]tempUnit{
	"c": celsius, "°c": celsius, "℃": celsius, "cel": celsius,
	"f": fahrenheit, "°f": fahrenheit, "℉": fahrenheit, "fah": fahrenheit,
	"k": kelvin, "kel": kelvin,
}

// temperatureUnit reads the sample's "unit" or "temperatureUnit" field;
// absent means °C (the default payload's documented unit).
func temperatureUnit(m map[string]any) (tempUnit, *Error) {
	var (
		found tempUnit
		key   string
	)
	for _, k := range []string{"unit", "temperatureUnit"} {
		v, ok := m[k]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return tempUnit{}, errorf(ReasonUnit, "%s must be a string such as \"C\", \"F\" or \"K\", not %s", k, describe(v))
		}
		u, ok := tempUnits[strings.ToLower(strings.TrimSpace(s))]
		if !ok {
			return tempUnit{}, errorf(ReasonUnit, "%s %q is not a known temperature unit (C, °C, CEL, F, °F, FAH, K, KEL)", k, truncate(s, 40))
		}
		if key != "" && u.code != found.code {
			return tempUnit{}, errorf(ReasonUnit, "unit %s and temperatureUnit %s disagree", found.code, u.code)
		}
		found, key = u, k
	}
	if key == "" {
		return celsius, nil
	}
	return found, nil
}
