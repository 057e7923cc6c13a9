// Package jsonpath is the JSON that HTTP checks and captures and WebSocket matches and captures
// share: one decoder, one path syntax, one rendering of a captured value.
//
// Numbers are decoded as json.Number, so that a captured number keeps the text the server sent:
// a 20-digit id or a price of 1.50 would come out of a float64 as 1.2345678901234568e+22 or 1.5
// and no longer be the value the next request must send back. Comparisons (Equal, Subset) still
// compare numbers by value, whichever of json.Number and float64 each side holds.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Decode decodes the JSON value at the start of b, numbers as json.Number. Like the HTTP checks
// always did, what follows the first value is not read.
func Decode(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Doc decodes a body at most once, on first use. Its zero value is ready; it is owned by one
// goroutine at a time.
type Doc struct {
	done, ok bool
	v        any
}

// Get returns body's decoded value, decoding it on the first call only: every later call
// returns that first result, whatever body it is given.
func (d *Doc) Get(body []byte) (any, bool) {
	if !d.done {
		d.done = true
		v, err := Decode(body)
		d.v, d.ok = v, err == nil
	}
	return d.v, d.ok
}

// bracketsToDots turns "items[0]" into "items.0".
var bracketsToDots = strings.NewReplacer("[", ".", "]", "")

// Lookup walks a dot-separated path ("data.items.0.id", also "$.data.items[0].id") through a
// decoded value.
func Lookup(v any, path string) (any, bool) {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if path == "" {
		return v, true
	}
	path = bracketsToDots.Replace(path)
	for _, key := range strings.Split(path, ".") {
		if key == "" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// Equal compares decoded values: objects by key and arrays element by element, both whole;
// numbers by value.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			if yv, ok := y[k]; !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(a, b)
}

// Subset reports whether got contains want: objects by key (extra keys in got are fine), arrays
// element by element with equal length, scalars (numbers by value) by equality.
func Subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !Subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !Subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(want, got)
}

// scalarEqual compares two scalars; two numbers are equal when their text is, or their values.
func scalarEqual(a, b any) bool {
	x, xnum := number(a)
	y, ynum := number(b)
	if !xnum || !ynum {
		return a == b
	}
	if xn, ok := a.(json.Number); ok {
		if yn, ok := b.(json.Number); ok && xn == yn {
			return true
		}
	}
	return x == y
}

// number returns v's value when v is a number (a json.Number that parses, or a float64).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Text renders a decoded value as capture text: strings raw, numbers as the server wrote them,
// true and false, "" for null, objects and arrays as JSON.
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
