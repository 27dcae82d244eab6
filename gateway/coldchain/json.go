package coldchain

import (
	"encoding/json"
	"time"
)

// JSON forms (the gateway's /api/v1/lots/{gtin}/{lot}/coldchain): lower
// camel-case names, durations in minutes.

func minutes(d time.Duration) float64 { return d.Minutes() }

// MarshalJSON writes a reading as {"sensor","at","tempC","humidity","eventID"}.
func (r Reading) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Sensor   string    `json:"sensor"`
		At       time.Time `json:"at"`
		TempC    *float64  `json:"tempC,omitempty"`
		Humidity *float64  `json:"humidity,omitempty"`
		EventID  string    `json:"eventID,omitempty"`
		Edge     string    `json:"edge,omitempty"`
		Seq      uint64    `json:"seq,omitempty"`
		Late     bool      `json:"late,omitempty"`
	}{r.Sensor, r.At, r.TempC, r.Humidity, r.EventID, r.Edge, r.Seq, r.Late})
}

// MarshalJSON writes an excursion with its duration in minutes and the
// number of its readings (not the readings themselves).
func (e Excursion) MarshalJSON() ([]byte, error) {
	return json.Marshal(excursionJSON{e.Kind, e.Sensor, e.Start, e.End, minutes(e.Duration), e.Peak, e.Limit, e.Unit, e.MKTC, len(e.Readings), e.Open})
}

// MarshalJSON writes a sensor's figures.
func (f SensorFigures) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Sensor      string    `json:"sensor"`
		Readings    int       `json:"readings"`
		First       time.Time `json:"first"`
		Last        time.Time `json:"last"`
		MKTC        *float64  `json:"mktC,omitempty"`
		MinC        *float64  `json:"minC,omitempty"`
		MaxC        *float64  `json:"maxC,omitempty"`
		MinHumidity *float64  `json:"minHumidity,omitempty"`
		MaxHumidity *float64  `json:"maxHumidity,omitempty"`
	}{f.Sensor, f.Readings, f.First, f.Last, f.MKTC, f.MinC, f.MaxC, f.MinHumidity, f.MaxHumidity})
}

// MarshalJSON writes a rule a lot broke.
func (r Reason) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Rule    string    `json:"rule"`
		Kind    string    `json:"kind,omitempty"`
		Sensor  string    `json:"sensor,omitempty"`
		Start   time.Time `json:"start,omitzero"`
		Value   float64   `json:"value"`
		Limit   float64   `json:"limit"`
		Message string    `json:"message"`
	}{r.Rule, r.Kind, r.Sensor, r.Start, r.Value, r.Limit, r.String()})
}

// MarshalJSON writes the verdict.
func (v Verdict) MarshalJSON() ([]byte, error) {
	reasons := v.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	return json.Marshal(struct {
		Breach  bool     `json:"breach"`
		Reasons []Reason `json:"reasons"`
	}{v.Breach, reasons})
}

// MarshalJSON writes a lot's figures with times out of range in minutes.
func (s Summary) MarshalJSON() ([]byte, error) {
	oor := map[string]float64{}
	for k, d := range s.OutOfRange {
		oor[k] = minutes(d)
	}
	exc := s.Excursions
	if exc == nil {
		exc = []Excursion{}
	}
	sensors := s.Sensors
	if sensors == nil {
		sensors = []SensorFigures{}
	}
	return json.Marshal(struct {
		Excursions               []Excursion        `json:"excursions"`
		OutOfRangeMin            map[string]float64 `json:"outOfRangeMin"`
		TemperatureOutOfRangeMin float64            `json:"temperatureOutOfRangeMin"`
		HumidityOutOfRangeMin    float64            `json:"humidityOutOfRangeMin"`
		Sensors                  []SensorFigures    `json:"sensors"`
		MinC                     *float64           `json:"minC,omitempty"`
		MaxC                     *float64           `json:"maxC,omitempty"`
		MKTC                     *float64           `json:"mktC,omitempty"`
		Verdict                  Verdict            `json:"verdict"`
	}{exc, oor, minutes(s.TemperatureOutOfRange), minutes(s.HumidityOutOfRange), sensors, s.MinC, s.MaxC, s.MKTC, s.Verdict})
}

// excursionJSON is the JSON form of an Excursion.
type excursionJSON struct {
	Kind        string    `json:"kind"`
	Sensor      string    `json:"sensor"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	DurationMin float64   `json:"durationMin"`
	Peak        float64   `json:"peak"`
	Limit       float64   `json:"limit"`
	Unit        string    `json:"unit"`
	MKTC        *float64  `json:"mktC,omitempty"`
	Readings    int       `json:"readings"`
	Open        bool      `json:"open"`
}

func fromMinutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

// UnmarshalJSON reads what MarshalJSON writes (the readings themselves
// are not part of it).
func (e *Excursion) UnmarshalJSON(b []byte) error {
	var x excursionJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*e = Excursion{Kind: x.Kind, Sensor: x.Sensor, Start: x.Start, End: x.End, Duration: fromMinutes(x.DurationMin),
		Peak: x.Peak, Limit: x.Limit, Unit: x.Unit, MKTC: x.MKTC, Open: x.Open}
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var x struct {
		Excursions               []Excursion        `json:"excursions"`
		OutOfRangeMin            map[string]float64 `json:"outOfRangeMin"`
		TemperatureOutOfRangeMin float64            `json:"temperatureOutOfRangeMin"`
		HumidityOutOfRangeMin    float64            `json:"humidityOutOfRangeMin"`
		Sensors                  []SensorFigures    `json:"sensors"`
		MinC                     *float64           `json:"minC"`
		MaxC                     *float64           `json:"maxC"`
		MKTC                     *float64           `json:"mktC"`
		Verdict                  Verdict            `json:"verdict"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*s = Summary{Excursions: x.Excursions, TemperatureOutOfRange: fromMinutes(x.TemperatureOutOfRangeMin), HumidityOutOfRange: fromMinutes(x.HumidityOutOfRangeMin),
		Sensors: x.Sensors, MinC: x.MinC, MaxC: x.MaxC, MKTC: x.MKTC, Verdict: x.Verdict}
	if len(x.OutOfRangeMin) > 0 {
		s.OutOfRange = map[string]time.Duration{}
		for k, m := range x.OutOfRangeMin {
			s.OutOfRange[k] = fromMinutes(m)
		}
	}
	return nil
}
