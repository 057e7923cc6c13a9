package plan

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// localDef records which file a local value is written in.
type localEntry struct {
	attr *hcl.Attribute
	src  *source
}

// loadLocals evaluates every `locals` block attribute in dependency order. A cycle is reported
// once, at each local that is part of it.
func (l *loader) loadLocals() {
	entries := map[string]*localEntry{}
	var order []string
	seen := newNames("local value")
	for _, fb := range l.blocks("locals") {
		attrs, diags := fb.block.Body.JustAttributes()
		l.add(diags)
		for _, a := range sortedAttrs(attrs) {
			if !seen.declare(l, a.Name, a.NameRange) {
				continue
			}
			entries[a.Name] = &localEntry{attr: a, src: fb.src}
			l.localDef[a.Name] = a
			order = append(order, a.Name)
		}
	}
	if len(entries) == 0 {
		return
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case done:
			return true
		case visiting:
			i := 0
			for j, s := range stack {
				if s == name {
					i = j
				}
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			e := entries[name]
			l.errorAt(e.attr.Expr.Range(), "Cyclic reference",
				"local.%s depends on itself: %s. Break the cycle by writing one of these values without the others.",
				name, "local."+strings.Join(cycle, " → local."))
			return false
		}
		state[name] = visiting
		stack = append(stack, name)
		e := entries[name]
		ok := true
		for _, tr := range e.attr.Expr.Variables() {
			if tr.RootName() != "local" {
				continue
			}
			dep, has := traversalAttr(tr, 1)
			if has && entries[dep] != nil && !visit(dep) {
				ok = false
				break
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		if !ok {
			l.locals[name] = cty.DynamicVal
			l.badNames["local."+name] = true
			return false
		}
		l.evalLocal(name, e)
		return true
	}
	for _, name := range order {
		visit(name)
	}
}

func (l *loader) evalLocal(name string, e *localEntry) {
	sc := &scope{src: e.src, what: "a local value (locals are computed once, before the test starts)"}
	if !l.checkRefs(e.attr.Expr, sc) {
		l.locals[name] = cty.DynamicVal
		l.badNames["local."+name] = true
		return
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(l.vars), "local": cty.ObjectVal(l.locals)},
		Functions: l.functions(e.src.baseDir),
	}
	v, diags := evalBounded(e.attr.Expr, ctx, ctx.Functions, "local."+name)
	l.add(diags)
	if diags.HasErrors() || !l.checkLocalSize(name, e.attr, v) {
		v = cty.DynamicVal
		l.badNames["local."+name] = true
	}
	l.locals[name] = v
}
