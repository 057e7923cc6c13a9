package plan

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// TestGuardsAgreeWithStdlib: within the bounds a guarded function returns exactly what the cty
// function it wraps returns, marks (env() secrets) included; past them it refuses.
func TestGuardsAgreeWithStdlib(t *testing.T) {
	s := cty.StringVal
	n := cty.NumberIntVal
	secret := s("hunter2").Mark(SensitiveMark)
	list := cty.ListVal([]cty.Value{s("a"), s("b")})
	cases := []struct {
		name    string
		guarded function.Function
		plain   function.Function
		args    []cty.Value
	}{
		{"range", boundedRange, stdlib.RangeFunc, []cty.Value{n(1), n(10), n(3)}},
		{"range down", boundedRange, stdlib.RangeFunc, []cty.Value{n(5), n(0)}},
		{"join", boundedJoin, stdlib.JoinFunc, []cty.Value{s("-"), list, list}},
		{"join secret", boundedJoin, stdlib.JoinFunc, []cty.Value{s("-"), cty.ListVal([]cty.Value{secret, s("x")})}},
		{"format", boundedFormat, stdlib.FormatFunc, []cty.Value{s("user-%05d %s %.2f %[1]d"), n(7), s("x"), cty.NumberFloatVal(1.5)}},
		{"format secret", boundedFormat, stdlib.FormatFunc, []cty.Value{s("Bearer %s"), secret}},
		{"replace", boundedReplace, stdlib.ReplaceFunc, []cty.Value{s("abcb"), s("b"), s("xx")}},
		{"replace empty", boundedReplace, stdlib.ReplaceFunc, []cty.Value{s("ab"), s(""), s("-")}},
		{"split", boundedSplit, stdlib.SplitFunc, []cty.Value{s(","), s("a,b,,c")}},
		{"concat", boundedConcat, stdlib.ConcatFunc, []cty.Value{list, cty.ListVal([]cty.Value{secret})}},
		{"merge", boundedMerge, stdlib.MergeFunc, []cty.Value{cty.ObjectVal(map[string]cty.Value{"a": n(1)}), cty.ObjectVal(map[string]cty.Value{"b": secret})}},
		{"jsonencode", boundedJSONEncode, stdlib.JSONEncodeFunc, []cty.Value{cty.ObjectVal(map[string]cty.Value{"a": list, "b": s("<&>\x01")})}},
		{"jsondecode", boundedJSONDecode, stdlib.JSONDecodeFunc, []cty.Value{s(`{"a":[1,2,{"b":"c"}]}`)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.guarded.Call(c.args)
			want, werr := c.plain.Call(c.args)
			if err != nil || werr != nil {
				t.Fatalf("guarded: %v, plain: %v", err, werr)
			}
			if !got.RawEquals(want) {
				t.Fatalf("guarded %#v, plain %#v", got, want)
			}
		})
	}
}

func TestGuardsRefuse(t *testing.T) {
	within := "[" + strings.Repeat("1,", maxJSONElements-2) + "1]"
	if _, err := boundedJSONDecode.Call([]cty.Value{cty.StringVal(within)}); err != nil {
		t.Fatalf("%d elements: %v", maxJSONElements-1, err)
	}
	s := cty.StringVal
	n := cty.NumberIntVal
	half := s(strings.Repeat("x", maxBuildSize/2+1))
	many := func(count int) cty.Value {
		vals := make([]cty.Value, count)
		for i := range vals {
			vals[i] = n(1)
		}
		return cty.ListVal(vals)
	}
	cases := []struct {
		name string
		fn   function.Function
		args []cty.Value
		want string
	}{
		{"range", boundedRange, []cty.Value{n(0), n(1e9)}, "1,000,000,000 elements"},
		{"range by a tiny step", boundedRange, []cty.Value{n(0), n(1), cty.NumberFloatVal(1e-9)}, "elements"},
		{"join", boundedJoin, []cty.Value{s(""), cty.ListVal([]cty.Value{half, half})}, "bytes"},
		{"format width", boundedFormat, []cty.Value{s("%999999999d"), n(1)}, "bytes"},
		{"format star width", boundedFormat, []cty.Value{s("%*d"), n(999999999), n(1)}, "bytes"},
		{"format repeats an argument", boundedFormat, []cty.Value{s("%[1]s%[1]s"), half}, "bytes"},
		{"replace", boundedReplace, []cty.Value{half, s("x"), s("xx")}, "bytes"},
		{"split", boundedSplit, []cty.Value{s(""), s(strings.Repeat("x", maxListLen))}, "elements"},
		{"concat", boundedConcat, []cty.Value{many(maxListLen/2 + 1), many(maxListLen/2 + 1)}, "elements"},
		{"jsonencode", boundedJSONEncode, []cty.Value{cty.TupleVal([]cty.Value{half, half})}, "bytes"},
		{"jsondecode", boundedJSONDecode, []cty.Value{s("[" + strings.Repeat("1,", maxJSONElements) + "1]")}, "elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.fn.Call(c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error about %s, got %v", c.want, err)
			}
		})
	}
}
