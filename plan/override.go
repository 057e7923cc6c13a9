package plan

import (
	"fmt"
	"math"
	"time"
)

// This file holds the command line's rewrite of a loaded plan's loads: `--vus N --spawn-rate R`,
// Locust's `--users N --spawn-rate R`. It rewrites the plan rather than adding a mode to the
// executor, so that `loadplan plan` shows, and the executor runs, ordinary stages.

// HoldUntilStopped is how long a spawn ramp holds its VUs when no run length is given: Locust
// without --run-time runs until Ctrl-C, and a year stands in for "until stopped" while keeping
// every sum of durations far from time.Duration's limit.
const HoldUntilStopped = 365 * 24 * time.Hour

// SpawnUsers rewrites the loads of the named scenarios (every scenario when names is empty) into
// Locust's spawn ramp: VU k (1-based) starts at (k−1)/rate seconds, as Locust's spawner starts one
// user at once and one more every 1/rate seconds, up to vus; they are held until total has passed
// since the start (total includes the ramp, as Locust's --run-time does), or HoldUntilStopped when
// total is 0. Only the users model has a ramp of VUs: a scenario with an arrival_rate or
// iterations load is an error naming it — except the plan-level load a plan without a load block
// gets (DefaultLoad, which has no source position), which becomes the ramp, as the command line
// is then the only place the load is written. The plan's graceful_stop and graceful_ramp_down are
// kept.
func (p *Plan) SpawnUsers(names []string, vus int, rate float64, total time.Duration) error {
	if vus < 1 || vus > maxVUs {
		return fmt.Errorf("--vus %d: the spawn ramp needs 1 to %d VUs", vus, maxVUs)
	}
	if !(rate > 0) || math.IsInf(rate, 0) || rate > maxRate {
		return fmt.Errorf("--spawn-rate %g: write VUs started per second, more than 0 and at most %d (e.g. --spawn-rate 10)", rate, maxRate)
	}
	ramp := SpawnRamp(vus, rate)
	if ramp >= HoldUntilStopped {
		return fmt.Errorf("--vus %d at --spawn-rate %g VUs/s takes longer than a year to start: raise --spawn-rate", vus, rate)
	}
	hold := HoldUntilStopped - ramp
	if total > 0 {
		if total <= ramp {
			return fmt.Errorf("--vus %d at --spawn-rate %g VUs/s takes %s to start, longer than --duration %s: raise --duration or --spawn-rate",
				vus, rate, ramp.Round(time.Millisecond), total)
		}
		hold = total - ramp
	} else if total < 0 {
		return fmt.Errorf("--duration %s must not be negative", total)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	done := map[*Load]bool{}
	for _, sc := range p.Scenarios {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		ld := sc.Load
		if ld == nil {
			if p.Load == nil { // cannot happen for a loaded plan; the executor reports it
				continue
			}
			if p.Load.Pos == (Pos{}) && p.Load.Model != Users { // no load block written
				p.Load = spawnLoad(DefaultLoad())
			}
			ld = p.Load
		}
		if done[ld] {
			continue
		}
		if ld.Model != Users {
			where := "its load block"
			if ld == p.Load {
				where = "the plan-level load block it shares"
			}
			return fmt.Errorf("--spawn-rate ramps VUs, and scenario %q runs model = %q (%s at %s): its VUs follow the %s, not a ramp. --spawn-rate applies to users loads: select the scenarios that have one with --scenario NAME, or drop --spawn-rate (--vus N alone caps the VUs of every model)",
				sc.Name, ld.Model, where, ld.Pos.String(), modelDriver(ld.Model))
		}
		ld.StartVUs = 1
		ld.Stages = ld.Stages[:0:0]
		if ramp > 0 {
			ld.Stages = append(ld.Stages, Stage{Duration: ramp, Target: float64(vus)})
		} else {
			ld.StartVUs = vus // one VU, or a rate so high every VU starts at once
		}
		ld.Stages = append(ld.Stages, Stage{Duration: hold, Target: float64(vus)})
		done[ld] = true
	}
	return nil
}

// SpawnRamp returns how long Locust's spawner takes to start vus VUs at rate per second: the
// first starts at once, one more every 1/rate seconds.
func SpawnRamp(vus int, rate float64) time.Duration {
	if vus <= 1 || !(rate > 0) {
		return 0
	}
	return time.Duration(float64(vus-1) / rate * float64(time.Second))
}

// spawnLoad turns a default load into a users load; SpawnUsers sets its stages.
func spawnLoad(ld *Load) *Load {
	ld.Model, ld.VUs, ld.Iterations, ld.MaxDuration = Users, 0, 0, 0
	return ld
}

// modelDriver says what sets the VUs of a non-users model, for SpawnUsers' error.
func modelDriver(m Model) string {
	if m == ArrivalRate {
		return "arrival rate (an open model)"
	}
	return "iteration count"
}

// String is "file:line:col", or "(default)" for an element no source wrote.
func (p Pos) String() string {
	if p.File == "" {
		return "(default)"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}
