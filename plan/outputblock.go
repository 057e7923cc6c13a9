package plan

import (
	"fmt"
	"strconv"
	"time"
)

// OutputBlock is an `output "KIND" { ... }` block. plan knows no output's fields: it decodes the
// block against the schema its kind declares (Options.Outputs, which outputs/registry supplies)
// into plain values, and the kind's own package reads them. A block is also built from
// `--out KIND=VALUE` by the registry, without a source position.
type OutputBlock struct {
	Kind  string
	Pos   Pos
	Attrs []*Attr // in the order of the kind's schema (source order without one); defaults filled
}

// Attr is one attribute of an output block, decoded. Its Value has the Go type its AttrSpec
// declares: string, bool, int, time.Duration or map[string]string. Without a schema
// (Options.Outputs nil) a value keeps its natural type: string, bool, int, float64, []any or map[string]any.
type Attr struct {
	Name   string
	Value  any
	Secret bool // read from env() or a sensitive variable, or declared secret: used, never shown
	Set    bool // written in the plan or on the command line; false for a schema default
	Pos    Pos  // the value's expression; the block's label for a default
}

// Shown renders the value for a message: Go-quoted, or Hidden when it is a secret.
func (a *Attr) Shown() string {
	if a.Secret {
		return Hidden
	}
	if s, ok := a.Value.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(a.Value)
}

// Attr returns the attribute called name, or nil.
func (b *OutputBlock) Attr(name string) *Attr {
	for _, a := range b.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Set sets the attribute name to v (marked Set), adding it when absent. The registry and the CLI
// use it for blocks made from flags.
func (b *OutputBlock) Set(name string, v any) {
	if a := b.Attr(name); a != nil {
		a.Value, a.Set = v, true
		return
	}
	b.Attrs = append(b.Attrs, &Attr{Name: name, Value: v, Set: true, Pos: b.Pos})
}

// String returns the string attribute name, "" when absent.
func (b *OutputBlock) String(name string) string {
	s, _ := b.value(name).(string)
	return s
}

// Bool returns the bool attribute name, false when absent.
func (b *OutputBlock) Bool(name string) bool {
	v, _ := b.value(name).(bool)
	return v
}

// Int returns the whole-number attribute name, 0 when absent.
func (b *OutputBlock) Int(name string) int {
	v, _ := b.value(name).(int)
	return v
}

// StringMap returns the map attribute name (TypeStringMap), nil when absent.
func (b *OutputBlock) StringMap(name string) map[string]string {
	v, _ := b.value(name).(map[string]string)
	return v
}

// Duration returns the duration attribute name, 0 when absent.
func (b *OutputBlock) Duration(name string) time.Duration {
	v, _ := b.value(name).(time.Duration)
	return v
}

func (b *OutputBlock) value(name string) any {
	if a := b.Attr(name); a != nil {
		return a.Value
	}
	return nil
}

// AttrType is the type of an output attribute, which says how plan decodes it (and with which
// diagnostics: a duration is checked as every duration of a plan is).
type AttrType int

// The attribute types an output schema may declare.
const (
	TypeString    AttrType = iota // a string, e.g. a path or a URL
	TypeBool                      // true or false
	TypeInt                       // a whole number no smaller than AttrSpec.Min
	TypeDuration                  // a duration string such as "30s", decoded to time.Duration
	TypeStringMap                 // an object of strings such as { Authorization = "..." }; secret when any value is
)

// AttrSpec declares one attribute of an output kind.
type AttrSpec struct {
	Name     string
	Type     AttrType
	Required bool
	Min      int  // TypeInt: the least value allowed
	Default  any  // the value when left out (of the Go type Type decodes to); nil for none
	Secret   bool // never shown, even when not read from env() (a token)
	Show     bool // listed by `loadplan plan` when not the zero value
}

// OutputProblem is what an output kind's Check found wrong with a block. plan reports it as an
// error diagnostic at the attribute's expression (at the block's label when Attr is "" or was
// not written); Detail says how to fix it and shows a value only through Attr.Shown.
type OutputProblem struct {
	Attr    string
	Summary string
	Detail  string
}

// OutputSchema is what an output kind declares to plan: the block's attributes and the checks of
// their values that need no running system (a path that may not be empty, an address that must
// be host:port). The output kind's package owns it; outputs/registry lists them.
type OutputSchema struct {
	Kind  string
	Attrs []AttrSpec
	// Check checks a decoded block, defaults filled; an attribute that failed to decode is absent.
	// Nil means no checks beyond the types.
	Check func(b *OutputBlock) []OutputProblem
}

// Spec returns the declaration of the attribute name, or nil.
func (s *OutputSchema) Spec(name string) *AttrSpec {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// FillDefaults adds the schema's default of every attribute b leaves out, puts b's attributes in
// the schema's order and marks the declared secrets. It is idempotent.
func (s *OutputSchema) FillDefaults(b *OutputBlock) {
	attrs := make([]*Attr, 0, len(s.Attrs))
	for _, spec := range s.Attrs {
		a := b.Attr(spec.Name)
		if a == nil && spec.Default != nil {
			a = &Attr{Name: spec.Name, Value: spec.Default, Pos: b.Pos}
		}
		if a == nil {
			continue
		}
		a.Secret = a.Secret || spec.Secret
		attrs = append(attrs, a)
	}
	for _, a := range b.Attrs { // not in the schema: kept, for the kind's constructor to refuse
		if s.Spec(a.Name) == nil {
			attrs = append(attrs, a)
		}
	}
	b.Attrs = attrs
}
