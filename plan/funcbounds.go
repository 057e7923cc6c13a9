package plan

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Some functions build values far larger than their arguments: range(1e9) is a billion numbers,
// join() and format() copy their inputs, replace() with an empty search string inserts between every
// character. Each of those is wrapped so that it first works out how large its result would be and
// refuses, with an error on the argument, anything past maxBuildSize bytes or maxListLen elements.
// The estimate is made before the work, because the point is never to allocate the value.

// guard returns fn with check run on the arguments before fn; check's error becomes the call's.
// The check runs in the type step, which comes first: jsondecode's type step alone parses the
// whole JSON.
func guard(fn function.Function, check func(args []cty.Value) error) function.Function {
	return function.New(&function.Spec{
		Description: fn.Description(),
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if err := check(args); err != nil {
				return cty.NilType, err
			}
			return fn.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return fn.Call(args)
		},
	})
}

func tooLong(arg int, what string, n float64) error {
	if what == "bytes" {
		return function.NewArgErrorf(arg, "the result would be %s bytes; a string built while loading a plan is at most %s, "+
			"so that a plan cannot exhaust memory", fmtG(n), byteSize(maxBuildSize))
	}
	return function.NewArgErrorf(arg, "the result would be %s elements; a list built while loading a plan has at most %s, "+
		"so that a plan cannot exhaust memory", fmtG(n), thousands(maxListLen))
}

var boundedRange = guard(stdlib.RangeFunc, func(args []cty.Value) error {
	f := make([]float64, len(args))
	for i, a := range args {
		if !a.IsKnown() || a.IsNull() {
			return nil // the wrapped function reports it
		}
		a, _ = a.Unmark()
		f[i], _ = a.AsBigFloat().Float64()
	}
	start, end, step := 0.0, 0.0, 1.0
	switch len(args) {
	case 1:
		end = f[0]
	case 2:
		start, end = f[0], f[1]
		if end < start {
			step = -1
		}
	case 3:
		start, end, step = f[0], f[1], f[2]
	default:
		return nil
	}
	if step == 0 {
		return nil
	}
	if n := math.Ceil((end - start) / step); n > maxListLen || math.IsNaN(n) {
		return tooLong(len(args)-1, "elements", n)
	}
	return nil
})

var boundedJoin = guard(stdlib.JoinFunc, func(args []cty.Value) error {
	sep := int64(len(plainString(args[0])))
	size := int64(0)
	for _, list := range args[1:] {
		list, _ = list.Unmark()
		if !list.IsKnown() || list.IsNull() {
			continue
		}
		for it := list.ElementIterator(); it.Next(); {
			_, e := it.Element()
			size += sep + int64(len(plainString(e)))
			if size > maxBuildSize {
				return tooLong(1, "bytes", float64(size))
			}
		}
	}
	return nil
})

// boundedFormat bounds format(): every verb may print the largest argument (%[1]s repeats one) and
// pad it to its width, so the result is at most the spec plus, per verb, the largest argument and
// the numbers written in the verb.
var boundedFormat = guard(stdlib.FormatFunc, func(args []cty.Value) error {
	spec := plainString(args[0])
	largest, widest := int64(0), 0.0
	for _, a := range args[1:] {
		largest = max(largest, valueSize(a, maxBuildSize))
		if a, _ = a.Unmark(); a.IsKnown() && !a.IsNull() && a.Type() == cty.Number {
			f, _ := a.AsBigFloat().Float64()
			widest = math.Max(widest, math.Abs(f)) // a width or precision given by *
		}
	}
	size := float64(len(spec))
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			continue
		}
		size += float64(largest)
		num := 0.0
		for i++; i < len(spec) && strings.IndexByte("+-# 0123456789.*[]", spec[i]) >= 0; i++ {
			switch c := spec[i]; {
			case c >= '0' && c <= '9':
				num = num*10 + float64(c-'0')
			case c == '*':
				size += widest
			default:
				size, num = size+num, 0
			}
		}
		size += num
		if size > maxBuildSize {
			return tooLong(0, "bytes", size)
		}
	}
	return nil
})

var boundedReplace = guard(stdlib.ReplaceFunc, func(args []cty.Value) error {
	s, old, repl := plainString(args[0]), plainString(args[1]), plainString(args[2])
	var size float64
	if old == "" {
		size = float64(len(s)) + float64(utf8.RuneCountInString(s)+1)*float64(len(repl))
	} else {
		size = float64(len(s)) + float64(strings.Count(s, old))*float64(len(repl)-len(old))
	}
	if size > maxBuildSize {
		return tooLong(2, "bytes", size)
	}
	return nil
})

var boundedSplit = guard(stdlib.SplitFunc, func(args []cty.Value) error {
	if n := strings.Count(plainString(args[1]), plainString(args[0])) + 1; n > maxListLen {
		return tooLong(1, "elements", float64(n))
	}
	return nil
})

// elementsOf bounds functions whose result has as many elements as their arguments together
// (concat, merge): a list of a million references repeated a thousand times is a billion.
func elementsOf(args []cty.Value) error {
	n := 0
	for i, a := range args {
		if a, _ = a.Unmark(); a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
			if n += a.LengthInt(); n > maxListLen {
				return tooLong(i, "elements", float64(n))
			}
		}
	}
	return nil
}

var boundedConcat = guard(stdlib.ConcatFunc, elementsOf)
var boundedMerge = guard(stdlib.MergeFunc, elementsOf)

var boundedJSONEncode = guard(stdlib.JSONEncodeFunc, func(args []cty.Value) error {
	if n := jsonSize(args[0], maxBuildSize); n > maxBuildSize {
		return tooLong(0, "bytes", float64(n))
	}
	return nil
})

// boundedJSONDecode bounds the values jsondecode makes by the JSON's punctuation: every element
// of an array or object follows a [ { or , (more in strings: the estimate errs high). It takes
// maxJSONElements, fewer than other lists: cty gives every element of a decoded array a type of
// its own, which costs seconds per 100,000.
var boundedJSONDecode = guard(stdlib.JSONDecodeFunc, func(args []cty.Value) error {
	s := plainString(args[0])
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{', ',':
			n++
		}
	}
	if n > maxJSONElements {
		return function.NewArgErrorf(0, "the JSON holds about %s elements; jsondecode takes at most %s while loading a plan, "+
			"so that a plan cannot exhaust memory; put larger data in a CSV feeder", thousands(int64(n)), thousands(maxJSONElements))
	}
	return nil
})

// plainString is v's text, or "" when v is not a known string.
func plainString(v cty.Value) string {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// valueSize estimates the memory a value holds, in bytes: its strings' text plus 64 bytes per
// element and number, about what cty spends on each. It stops counting once past limit, so a huge
// value costs no more than limit to measure.
func valueSize(v cty.Value, limit int64) int64 { return sizeOf(v, limit, false) }

// jsonSize estimates the length of v's JSON encoding from above: valueSize with every character
// JSON escapes as \u00XX counted six times.
func jsonSize(v cty.Value, limit int64) int64 { return sizeOf(v, limit, true) }

func sizeOf(v cty.Value, limit int64, json bool) int64 {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return 8
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		n := int64(len(s))
		for i := 0; json && i < len(s); i++ {
			if s[i] < 0x20 || s[i] == '<' || s[i] == '>' || s[i] == '&' {
				n += 5
			}
		}
		return n
	case ty == cty.Number || ty == cty.Bool:
		return 64
	case v.CanIterateElements():
		n := int64(16)
		for it := v.ElementIterator(); it.Next() && n <= limit; {
			k, e := it.Element()
			n += 64 + sizeOf(e, limit-n, json)
			if ty.IsMapType() || ty.IsObjectType() {
				n += sizeOf(k, limit-n, json)
			}
		}
		return n
	}
	return 64
}

// describeSize is valueSize for a diagnostic: "about 80 MiB".
func describeSize(n int64) string { return fmt.Sprintf("about %s", byteSize(n)) }
