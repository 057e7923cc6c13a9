package plan

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// compileForTest compiles src as an expression with a feeder "users" (user, password) and var.x.
func compileForTest(t *testing.T, src string) *Template {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	feeders := map[string]*Feeder{"users": {Name: "users", Header: []string{"user", "password"}}}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("X")})},
		Functions: Functions(Options{Env: map[string]string{"PW": "s3<cr>et"}}, "."),
	}
	tp, diags := CompileTemplate(expr, []byte(src), ctx, feeders)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return tp
}

// TestJSONFastPathMatchesHCL: objects and lists of constants and string templates are encoded
// without HCL, byte for byte as the general path encodes them.
func TestJSONFastPathMatchesHCL(t *testing.T) {
	rt := &Runtime{VU: 12, Iter: 3, Scenario: "sc",
		Captures: map[string]string{"tok": "a\"b\\c\n<&>\u2028\xff"},
		Rows:     map[string][]string{"users": {"alice", "pä55"}}}
	cases := []struct {
		src  string
		fast bool
	}{
		{`{ user = "u${vu.id}", password = env("PW") }`, true},
		{`{ user = data.users.user, password = data.users.password, vu = vu.id, it = "${iter}" }`, true},
		{`{ b = [1, "x${iter}", true, null], a = { z = capture.tok, y = var.x }, "k-1" = scenario.name }`, true},
		{`[vu.id, iter, "${vu.id}", "${vu.id}-${iter}"]`, true},
		{`{ n = 1.5, big = 12345678901234567890, list = [var.x, "lit"], nested = { deep = [{ q = capture.tok }] } }`, true},
		{`{ n = random_int(5, 5), s = "${random_int(6, 6)}", l = random_item([[1, 2]]), t = "x${random_item(["y"])}" }`, true},
		{`{ user = upper(data.users.user) }`, false},
		{`{ v = vu.id + 1 }`, false},
		{`{ id = uuid(), r = random_int(1, vu.id) }`, false},
	}
	for _, c := range cases {
		tp := compileForTest(t, c.src)
		if (tp.json != nil) != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.src, tp.json != nil, c.fast)
			continue
		}
		if !c.fast {
			continue
		}
		got, err := tp.JSON(rt)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		slow := *tp
		slow.json = nil
		want, err := slow.JSON(rt)
		if err != nil {
			t.Fatalf("%s: general path: %v", c.src, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\nfast    %s\ngeneral %s", c.src, got, want)
		}
	}
}

func TestJSONFastPathMissingCapture(t *testing.T) {
	tp := compileForTest(t, `{ token = "Bearer ${capture.token}" }`)
	if _, err := tp.JSON(&Runtime{}); err == nil || err.Error() != "capture.token has no value in this iteration" {
		t.Errorf("err = %v", err)
	}
}

// TestJSONFastPathAllocations: a login body costs a handful of allocations, not a hundred
// (a count, not a timing: deterministic).
func TestJSONFastPathAllocations(t *testing.T) {
	tp := compileForTest(t, `{ user = "u${vu.id}", password = data.users.password }`)
	rt := &Runtime{VU: 7, Rows: map[string][]string{"users": {"alice", "pw"}}}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := tp.JSON(rt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("%v allocations per JSON body", allocs)
	}
}

// TestImpureCallsPerIteration: uuid() and friends with constant arguments are called per use
// without HCL, and keep their types.
func TestImpureCallsPerIteration(t *testing.T) {
	u := compileForTest(t, `"/orders/${uuid()}"`)
	if len(u.parts) != 2 || u.parts[1].kind != callPart {
		t.Fatalf("uuid() in a path is not on the fast path: %+v", u.parts)
	}
	a, _ := u.String(nil)
	b, _ := u.String(nil)
	if a == b || len(a) != len("/orders/")+36 {
		t.Errorf("two uuids: %q %q", a, b)
	}
	n := compileForTest(t, `random_int(3, 3)`)
	v, err := n.Value(nil)
	if err != nil || !v.Type().Equals(cty.Number) {
		t.Errorf("random_int value %#v %v", v, err)
	}
	j, _ := compileForTest(t, `vu.id`).JSON(&Runtime{VU: 9})
	eq(t, "vu.id as JSON", string(j), "9")
	s, _ := compileForTest(t, `random_item(["AAPL"])`).String(nil)
	eq(t, "random_item", s, "AAPL")
}

// TestConstantPiecesFolded: var.x and other constant pieces of a per-iteration string are folded
// into literals, so the template stays on the fast path.
func TestConstantPiecesFolded(t *testing.T) {
	tp := compileForTest(t, `"${var.x}/api/${vu.id}/${format("%03d", 7)}"`)
	if tp.parts == nil {
		t.Fatal("not on the fast path")
	}
	s, err := tp.String(&Runtime{VU: 5})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "value", s, "X/api/5/007")
	eq(t, "display", tp.Display(), `"${var.x}/api/${vu.id}/${format("%03d", 7)}"`)
	// A lone constant traversal in a JSON object is a constant node, not a string part.
	j, _ := compileForTest(t, `{ a = var.x, n = vu.id }`).JSON(&Runtime{VU: 2})
	eq(t, "json", string(j), `{"a":"X","n":2}`)
}

// TestFastPathTextAsHCL: numbers folded into a per-iteration string read as HCL writes them
// (they went through float64: "-0" lost, 1e-08, wrong digits of 1e400), and text from the run is
// in normal form C as cty makes every string on the general path. FuzzTemplateJSON found these.
func TestFastPathTextAsHCL(t *testing.T) {
	rt := &Runtime{VU: 5, Captures: map[string]string{"c": "e\u0301"}}
	for _, c := range []struct{ src, want string }{
		{`"${-0}/${vu.id}"`, "-0/5"},
		{`"${0.1e-7}/${vu.id}"`, "0.00000001/5"},
		{`"${1e30}/${vu.id}"`, "1000000000000000000000000000000/5"},
		{`"${capture.c}"`, "\u00e9"},
		{`"x${capture.c}${vu.id}"`, "x\u00e95"},
	} {
		tp := compileForTest(t, c.src)
		if tp.parts == nil {
			t.Fatalf("%s: not on the fast path", c.src)
		}
		got, err := tp.String(rt)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.src, got, err, c.want)
		}
		if d := jsonDiff(c.src, rt); d != "" {
			t.Error(d)
		}
	}
	j, err := compileForTest(t, `{ a = "${1e400}${vu.id}", b = capture.c }`).JSON(rt)
	if want := `{"a":"1` + strings.Repeat("0", 400) + `5","b":"` + "\u00e9" + `"}`; err != nil || string(j) != want {
		t.Errorf("JSON %s, %v; want %s", j, err, want)
	}
	// A null folded into a template stays on the general path, which reports it.
	expr, _ := hclsyntax.ParseExpression([]byte(`"${var.n}${vu.id}"`), "t.hcl", hcl.InitialPos)
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"n": cty.NullVal(cty.String)})}}
	if tp, _ := CompileTemplate(expr, nil, ctx, nil); tp == nil || tp.parts != nil {
		t.Errorf("a null constant was folded into the fast path")
	} else if _, err := tp.String(rt); err == nil {
		t.Errorf("a null in a template gave no error")
	}
}
