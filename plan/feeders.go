package plan

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var dataSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "csv", Required: true}, {Name: "mode"}, {Name: "delimiter"}},
}

var feederModes = []string{string(Sequential), string(Random), string(Unique)}

// loadFeeders reads every `data` block's CSV file now, so that a missing file or header is a
// diagnostic before anything runs and VUs share the rows without copying.
func (l *loader) loadFeeders() {
	seen := newNames("data")
	for _, fb := range l.blocks("data") {
		b := fb.block
		name := b.Labels[0]
		if !seen.declare(l, name, labelRange(b)) {
			continue
		}
		f := &Feeder{Name: name, Mode: Sequential, Pos: posOf(b.DefRange)}
		l.feeders[name] = f
		content, diags := b.Body.Content(dataSchema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "a data block"}
		if a := content.Attributes["mode"]; a != nil {
			if s, ok := l.str(a, sc); ok {
				if !contains(feederModes, s) {
					l.errorAt(a.Expr.Range(), "Unknown feeder mode", "%q is not a feeder mode.%s", s, didYouMean(s, feederModes))
				} else {
					f.Mode = FeederMode(s)
				}
			}
		}
		delim := ','
		if a := content.Attributes["delimiter"]; a != nil {
			if s, ok := l.str(a, sc); ok {
				if r := []rune(s); len(r) != 1 {
					l.errorAt(a.Expr.Range(), "Invalid delimiter", "delimiter is one character, e.g. \";\" or \"\\t\".")
				} else {
					delim = r[0]
				}
			}
		}
		a := content.Attributes["csv"]
		if a == nil {
			l.badFeeders[name] = true
			l.plan.Data = append(l.plan.Data, f)
			continue
		}
		path, sensitive, ok := l.feederPath(a, sc)
		if !ok {
			l.badFeeders[name] = true
			l.plan.Data = append(l.plan.Data, f)
			continue
		}
		f.Path = path
		if !filepath.IsAbs(path) {
			f.Path = filepath.Join(fb.src.baseDir, path)
		}
		l.readCSV(f, delim, a.Expr.Range(), sensitive)
		l.plan.Data = append(l.plan.Data, f)
	}
}

func (l *loader) readCSV(f *Feeder, delim rune, rng hcl.Range, sensitive bool) {
	l.badFeeders[f.Name] = true // until the file reads well: references to it are not checked again
	fh, limited, err := openBounded(f.Path, maxFileSize)
	name := f.Path
	if sensitive {
		name = "The file (its path is from env(), so not shown)"
	}
	switch {
	case errors.Is(err, errNotRegular):
		l.errorAt(rng, "Feeder file is not a regular file",
			"%s is %v. A feeder reads a CSV file (at most %s), not a device, pipe or folder.", name, err, byteSize(maxFileSize))
		return
	case errors.Is(err, errTooLarge):
		l.errorAt(rng, "Feeder file too large", "%s is %v. %s", name, err, feederLimits())
		return
	case err != nil:
		l.errorAt(rng, "Feeder file not found",
			"Cannot read %s: %v. The path is relative to the plan file's folder.", f.Path, unwrapPathErr(err))
		return
	}
	defer fh.Close()
	counted := &countingReader{r: limited}
	r := csv.NewReader(counted)
	r.Comma = delim
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) || (err == nil && len(header) == 1 && strings.TrimSpace(header[0]) == "") {
		l.errorAt(rng, "Feeder file has no header",
			"%s is empty. Its first line must name the columns, e.g. \"symbol,quantity\", and the rows follow.", f.Path)
		return
	}
	if err != nil {
		l.errorAt(rng, "Invalid CSV file", "%s: %v.", f.Path, err)
		return
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if h == "" {
			l.errorAt(rng, "Feeder file has no header",
				"Column %d of the first line of %s is empty. The first line must name every column, e.g. \"symbol,quantity\".", i+1, f.Path)
			return
		}
		if seen[h] {
			l.errorAt(rng, "Duplicate CSV column", "%s names the column %q twice; rename one.", f.Path, h)
			return
		}
		seen[h] = true
	}
	cells := len(header)
	for {
		rec, err := r.Read()
		if counted.n > maxFileSize { // it grew after openBounded looked at its size
			l.errorAt(rng, "Feeder file too large", "%s grew past %s while being read. %s", name, byteSize(maxFileSize), feederLimits())
			f.Rows = nil
			return
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l.errorAt(rng, "Invalid CSV file", "%s: %v. Every row needs as many fields as the header.", f.Path, err)
			return
		}
		if cells += len(rec); cells > maxFeederCells {
			l.errorAt(rng, "Feeder file too large", "%s has more than %s cells (rows × columns) by row %d. %s",
				name, thousands(int64(maxFeederCells)), len(f.Rows)+1, feederLimits())
			f.Rows = nil
			return
		}
		f.Rows = append(f.Rows, rec)
	}
	f.Header = header
	delete(l.badFeeders, f.Name)
	if len(f.Rows) == 0 {
		l.errorAt(rng, "Feeder file has no rows", "%s has a header but no rows; add at least one row.", f.Path)
	}
}

// feederLimits is the part of a diagnostic that states the bounds of a feeder file and the way
// past them.
func feederLimits() string {
	return fmt.Sprintf("A feeder file is at most %s and %s cells (rows × columns), all held in memory; "+
		"trim the file, or split it into one file per instance (the path chosen by a variable).", byteSize(maxFileSize), thousands(int64(maxFeederCells)))
}

// countingReader counts the bytes read through it, so that readCSV sees a file that grows past
// the size openBounded checked (the reader stops one byte past the bound).
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// feederPath reads csv and says whether it came from a secret (env()), which is then not shown.
func (l *loader) feederPath(a *hcl.Attribute, sc *scope) (string, bool, bool) {
	v, sensitive, ok := l.constantMarked(a, sc)
	if !ok {
		return "", false, false
	}
	v, ok = l.convertTo(a, v, cty.String, `Write it in quotes, e.g. "data/users.csv".`)
	if !ok {
		return "", false, false
	}
	return v.AsString(), sensitive, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
