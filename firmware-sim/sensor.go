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
// while the door is shut, ambient with τ/4 while it is open.
type sensorGen struct {
	cfg      SensorConfig
	rng      *rand.Rand
	dt       time.Duration
	air      float64
	doorLeft time.Duration
	battery  float64
	first    bool
}

func newSensorGen(d Device, rng *rand.Rand) *sensorGen {
	s := *d.Sensor
	return &sensorGen{cfg: s, rng: rng, dt: d.Interval, air: s.Setpoint + 0.3*rng.NormFloat64(), battery: s.Battery, first: true}
}

func (g *sensorGen) next(now time.Time) ([][]byte, error) {
	open := false
	if !g.first {
		target, tau := g.cfg.Setpoint, g.cfg.TimeConstant
		switch {
		case g.doorLeft > 0:
			open = true
			g.doorLeft -= g.dt
		case g.rng.Float64() < g.cfg.DoorOpenChance:
			open = true
			// Door opens somewhere in this interval, stays open 0.5–1.5× DoorOpenFor.
			g.doorLeft = time.Duration(float64(g.cfg.DoorOpenFor)*(0.5+g.rng.Float64())) - g.dt
		}
		if open {
			target, tau = g.cfg.Ambient, tau/4
		}
		g.air += (target - g.air) * (1 - math.Exp(-float64(g.dt)/float64(tau)))
		g.battery = max(0, g.battery-g.cfg.BatteryDrain)
	}
	g.first = false

	r := SensorReading{TS: Timestamp(now)}
	t := round(g.air+g.cfg.Noise*g.rng.NormFloat64(), 1)
	r.Temperature = &t
	if g.cfg.Humidity > 0 {
		h := g.cfg.Humidity + 2*g.rng.NormFloat64()
		if open {
			h += 10 // warm, moist air comes in
		}
		h = round(max(0, min(100, h)), 1)
		r.Humidity = &h
	}
	if g.cfg.Battery > 0 {
		b := int(math.Ceil(g.battery))
		r.Battery = &b
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return [][]byte{b}, nil
}
