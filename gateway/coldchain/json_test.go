package coldchain

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

func TestSummaryJSONUsesMinutesAndLowerCaseNames(t *testing.T) {
	maxC, single := 8.0, 30.0
	p := ledger.StorageProfile{MaxC: &maxC, MaxSingleExcursionMin: &single}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var rs []Reading
	for i, c := range []float64{5, 9, 10, 9, 5} {
		v := c
		rs = append(rs, Reading{Sensor: "s1", At: t0.Add(time.Duration(i) * 15 * time.Minute), TempC: &v, EventID: fmt.Sprint("e", i)})
	}
	b, err := json.Marshal(Summarise(p, map[string][]Reading{"s1": rs}, 5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Excursions []struct {
			Kind        string  `json:"kind"`
			DurationMin float64 `json:"durationMin"`
			Readings    int     `json:"readings"`
		} `json:"excursions"`
		TemperatureOutOfRangeMin float64 `json:"temperatureOutOfRangeMin"`
		Verdict                  struct {
			Breach  bool `json:"breach"`
			Reasons []struct {
				Rule    string `json:"rule"`
				Message string `json:"message"`
			} `json:"reasons"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Excursions) != 1 || got.Excursions[0].DurationMin != 45 || got.Excursions[0].Readings != 3 || got.TemperatureOutOfRangeMin != 45 {
		t.Fatalf("summary JSON %s", b)
	}
	if !got.Verdict.Breach || len(got.Verdict.Reasons) != 1 || got.Verdict.Reasons[0].Rule != RuleSingle || got.Verdict.Reasons[0].Message == "" {
		t.Fatalf("verdict JSON %s", b)
	}
	if strings.Contains(string(b), `"Excursions"`) {
		t.Fatalf("capitalised names in %s", b)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Excursions) != 1 || back.Excursions[0].Duration != 45*time.Minute || back.TemperatureOutOfRange != 45*time.Minute || !back.Verdict.Breach {
		t.Fatalf("round trip %+v", back)
	}
}
