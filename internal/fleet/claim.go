// Package fleet is what the instances of a distributed run need to act as one fleet without a
// coordinator of loadplan's own: an execution segment claimed in a shared folder (Claim), a common
// start instant agreed through that folder (ClaimBarrier) or over TCP (Serve, Join), the segment
// summary written as log lines that survive log collection (WriteLines, Collect), and a merge that
// lines the segments up by the schedule's clock (Align).
//
// It reads no environment variable and never exits: cmd/loadplan turns its errors into exit codes.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ErrTaken is wrapped by Claim's error when every segment of the folder is claimed already, and
// by ClaimIndex's when its segment is.
var ErrTaken = errors.New("no segment left to claim")

// claimRecord is the content of a claim file. Claimed is the claimer's clock at the claim; the
// claim-folder barrier derives the start from the latest one, so every instance computes the same
// instant from the same files.
type claimRecord struct {
	Segment string    `json:"segment"`
	Host    string    `json:"host,omitempty"`
	PID     int       `json:"pid"`
	Claimed time.Time `json:"claimed"`
}

// claimName is the claim file of segment index of total: the total is in the name so that a
// folder shared by fleets of different sizes never mixes their claims.
func claimName(index, total int) string {
	return "segment-" + strconv.Itoa(index) + "-of-" + strconv.Itoa(total) + ".claim"
}

// Claim takes the lowest free segment (1-based) of total in dir by creating its claim file with
// O_EXCL: the create is atomic on a local or shared (NFS v3+, overlay, bind-mounted) file system,
// so two instances never hold the same segment. It creates dir when missing. It returns
// ErrTaken (wrapped, naming dir) when all total are taken.
func Claim(dir string, total int, now time.Time) (int, error) {
	if total < 1 {
		return 0, fmt.Errorf("claim: total %d, want at least 1", total)
	}
	for i := 1; i <= total; i++ {
		ok, err := create(dir, i, total, now)
		if err != nil {
			return 0, err
		}
		if ok {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: all %d segments in %s are claimed (a previous run's claims? empty the folder, e.g. docker compose down -v; or more than %d instances started)",
		ErrTaken, total, dir, total)
}

// ClaimIndex claims segment index of total in dir, whose index an orchestrator gave: the claim
// folder's barrier then counts this instance too. It returns ErrTaken (wrapped) when another
// instance holds it.
func ClaimIndex(dir string, index, total int, now time.Time) error {
	ok, err := create(dir, index, total, now)
	if err == nil && !ok {
		err = fmt.Errorf("%w: segment %d/%d in %s is claimed already (two instances with the same index, or a previous run's claims: empty the folder)",
			ErrTaken, index, total, dir)
	}
	return err
}

// create creates the claim file of index with O_EXCL; ok is false when it exists.
func create(dir string, index, total int, now time.Time) (ok bool, err error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return false, fmt.Errorf("claim folder: %w", err)
	}
	path := filepath.Join(dir, claimName(index, total))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim folder: %w", err)
	}
	host, _ := os.Hostname()
	rec := claimRecord{Segment: strconv.Itoa(index) + "/" + strconv.Itoa(total), Host: host, PID: os.Getpid(), Claimed: now.UTC()}
	data, _ := json.Marshal(rec)
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		// The claim stands (the file exists); the barrier would wait for its content in vain.
		return false, fmt.Errorf("claim folder: write %s: %w", path, err)
	}
	return true, nil
}

// ClaimBarrier waits until all total segments of dir are claimed, polling every poll, and returns
// the start instant: the latest claim's time plus margin, the same for every instance that reads
// the same files. A claim file still being written (empty or partial) counts as not yet claimed.
// It fails when ctx ends first, naming the segments still unclaimed.
func ClaimBarrier(ctx context.Context, dir string, total int, margin, poll time.Duration) (time.Time, error) {
	for {
		latest, missing := readClaims(dir, total)
		if len(missing) == 0 {
			return latest.Add(margin), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("claim folder %s: %d of %d segments claimed when the wait ended (%v); unclaimed: %s",
				dir, total-len(missing), total, context.Cause(ctx), Names(missing, total))
		case <-time.After(poll):
		}
	}
}

// readClaims returns the latest claim time of dir's claims of total and the indexes not (yet)
// claimed.
func readClaims(dir string, total int) (time.Time, []int) {
	var latest time.Time
	var missing []int
	for i := 1; i <= total; i++ {
		data, err := os.ReadFile(filepath.Join(dir, claimName(i, total)))
		var rec claimRecord
		if err != nil || json.Unmarshal(data, &rec) != nil || rec.Claimed.IsZero() {
			missing = append(missing, i)
			continue
		}
		if rec.Claimed.After(latest) {
			latest = rec.Claimed
		}
	}
	return latest, missing
}

// Names renders segment indexes of total as "2/4, 4/4".
func Names(indexes []int, total int) string {
	s := ""
	for i, x := range indexes {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(x) + "/" + strconv.Itoa(total)
	}
	return s
}
