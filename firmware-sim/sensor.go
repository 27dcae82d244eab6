package sim

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"time"
)

// sensorGen is a cold-chain logger in a cold room or reefer. Between
// readings (the nominal interval dt, whatever the Rate) the air moves
// towards its target by 1-exp(-dt/τ): the setpoint with τ = TimeConstant
// while the door is shut and the compressor runs, ambient with τ/4 while
// the door is open and with τ once the compressor has failed. Faults
// (SensorFaults) count time from the first reading in nominal intervals.
type sensorGen struct {
	cfg      SensorConfig
	f        SensorFaults
	rng      *rand.Rand
	dt       time.Duration
	air      float64
	doorLeft time.Duration
	battery  float64
	first    bool
	elapsed  time.Duration // nominal time since the first reading
	lastT    *float64
	lastH    *float64
	held     []byte   // a payload published after the next one (swap)
	buffered [][]byte // payloads kept while offline
}

func newSensorGen(d Device, rng *rand.Rand) *sensorGen {
	s := *d.Sensor
	g := &sensorGen{cfg: s, rng: rng, dt: d.Interval, air: s.Setpoint + 0.3*rng.NormFloat64(), battery: s.Battery, first: true}
	if s.Faults != nil {
		g.f = *s.Faults
	}
	return g
}

func in(t, from, length time.Duration) bool { return length > 0 && t >= from && t < from+length }

func (g *sensorGen) next(now time.Time) ([][]byte, error) {
	open := false
	if !g.first {
		g.elapsed += g.dt
		target, tau := g.cfg.Setpoint, g.cfg.TimeConstant
		failed := g.f.CompressorFailAfter > 0 && g.elapsed >= g.f.CompressorFailAfter
		switch {
		case g.doorLeft > 0:
			open = true
			g.doorLeft -= g.dt
		case g.rng.Float64() < g.cfg.DoorOpenChance:
			open = true
			// Door opens somewhere in this interval, stays open 0.5–1.5× DoorOpenFor.
			g.doorLeft = time.Duration(float64(g.cfg.DoorOpenFor)*(0.5+g.rng.Float64())) - g.dt
		}
		switch {
		case open:
			target, tau = g.cfg.Ambient, tau/4
		case failed:
			target = g.cfg.Ambient
		}
		g.air += (target - g.air) * (1 - math.Exp(-float64(g.dt)/float64(tau)))
		g.battery = max(0, g.battery-g.cfg.BatteryDrain)
	}
	g.first = false

	r := SensorReading{TS: Timestamp(now.Add(g.f.ClockSkew))}
	t := g.air + g.cfg.Noise*g.rng.NormFloat64() + g.f.DriftPerHour*g.elapsed.Hours()
	t = round(t, 1)
	var h *float64
	if g.cfg.Humidity > 0 {
		v := g.cfg.Humidity + 2*g.rng.NormFloat64()
		if open {
			v += 10 // warm, moist air comes in
		}
		v = round(max(0, min(100, v)), 1)
		h = &v
	}
	if in(g.elapsed, g.f.StickAfter, g.f.StickFor) && g.lastT != nil {
		t, h = *g.lastT, g.lastH
	}
	g.lastT, g.lastH = &t, h
	if g.cfg.Unit == "F" {
		f := round(t*9/5+32, 1)
		r.Temperature, r.Unit = &f, "F"
	} else {
		r.Temperature = &t
		r.Humidity = h
		if g.cfg.Battery > 0 {
			b := int(math.Ceil(g.battery))
			r.Battery = &b
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return g.deliver(b), nil
}

// deliver applies the delivery faults: offline buffering, swaps and
// duplicates.
func (g *sensorGen) deliver(b []byte) [][]byte {
	if in(g.elapsed, g.f.OfflineAfter, g.f.OfflineFor) {
		g.buffered = append(g.buffered, b)
		return nil
	}
	out := g.buffered
	g.buffered = nil
	if g.held != nil {
		out = append(out, b, g.held)
		g.held = nil
		return out
	}
	if g.f.SwapChance > 0 && g.rng.Float64() < g.f.SwapChance {
		g.held = b
		return out
	}
	out = append(out, b)
	if g.f.DuplicateChance > 0 && g.rng.Float64() < g.f.DuplicateChance {
		out = append(out, b)
	}
	return out
}
