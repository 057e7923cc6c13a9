package importer

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxDepth bounds the instance built from a schema: recursive schemas (a tree node holding
// children) stop there instead of recursing forever.
const maxDepth = 8

// exampleOf returns the schema's own example value (example, examples[0], const, default, first
// enum value), if it has one.
func exampleOf(s *openapi3.Schema) (any, bool) {
	switch {
	case s == nil:
		return nil, false
	case s.Example != nil:
		return s.Example, true
	case len(s.Examples) > 0:
		return s.Examples[0], true
	case s.Const != nil:
		return s.Const, true
	case s.Default != nil:
		return s.Default, true
	case len(s.Enum) > 0:
		return s.Enum[0], true
	}
	return nil, false
}

// maxNodes bounds the values built for one schema: a schema whose required properties refer
// back to it multiplies at every level, and 8 levels of 10 would be 10^8 values.
const maxNodes = 2000

// instance returns a minimal valid value of the schema: its example when it has one, else the
// required properties of an object, minItems items of an array, and a value of each scalar type
// that respects minimum, minLength and the common formats.
func instance(ref *openapi3.SchemaRef) any {
	b := &builder{left: maxNodes}
	return b.build(ref, 0)
}

// builder builds one instance within its budget of values.
type builder struct {
	left int
}

func (b *builder) build(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > maxDepth || b.left <= 0 {
		return nil
	}
	b.left--
	s := ref.Value
	if v, ok := exampleOf(s); ok {
		return v
	}
	if len(s.AllOf) > 0 {
		merged := map[string]any{}
		for _, sub := range s.AllOf {
			if m, ok := b.build(sub, depth+1).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		if s.Properties != nil {
			for k, v := range b.object(s, depth) {
				merged[k] = v
			}
		}
		return merged
	}
	for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, alt := range alts {
			if alt.Value != nil && !alt.Value.Type.Is("null") {
				return b.build(alt, depth+1)
			}
		}
	}
	switch typeOf(s) {
	case "object":
		return b.object(s, depth)
	case "array":
		out := []any{}
		for i := uint64(0); i < s.MinItems && i < 16; i++ {
			out = append(out, b.build(s.Items, depth+1))
		}
		return out
	case "integer":
		return float64(numberIn(s, 1))
	case "number":
		return numberIn(s, 1)
	case "boolean":
		return true
	case "null":
		return nil
	}
	return stringFor(s)
}

// typeOf is the schema's type, the first that is not "null" of a 3.1 type list; a schema with
// properties and no type is an object.
func typeOf(s *openapi3.Schema) string {
	for _, t := range s.Type.Slice() {
		if t != "null" {
			return t
		}
	}
	if len(s.Properties) > 0 {
		return "object"
	}
	if s.Type.IncludesNull() {
		return "null"
	}
	return "string"
}

// object builds the required properties of an object schema, in name order.
func (b *builder) object(s *openapi3.Schema, depth int) map[string]any {
	out := map[string]any{}
	req := append([]string(nil), s.Required...)
	sort.Strings(req)
	for _, name := range req {
		if p := s.Properties[name]; p != nil && p.Value != nil && p.Value.ReadOnly {
			continue // a server-set field (id, created_at) is not sent
		}
		out[name] = b.build(s.Properties[name], depth+1)
	}
	return out
}

// numberIn returns def moved inside [minimum, maximum].
func numberIn(s *openapi3.Schema, def float64) float64 {
	v := def
	if s.Min != nil && v < *s.Min {
		v = *s.Min
		if s.ExclusiveMin.IsTrue() {
			v++
		}
	}
	if s.ExclusiveMin.Value != nil && v <= *s.ExclusiveMin.Value {
		v = *s.ExclusiveMin.Value + 1
	}
	if s.Max != nil && v > *s.Max {
		v = *s.Max
	}
	return v
}

// stringFor returns a string that fits the schema's format and length bounds.
func stringFor(s *openapi3.Schema) string {
	var v string
	switch s.Format {
	case "date-time":
		v = "2024-01-01T00:00:00Z"
	case "date":
		v = "2024-01-01"
	case "time":
		v = "00:00:00"
	case "uuid":
		v = "00000000-0000-4000-8000-000000000000"
	case "email":
		v = "user@example.com"
	case "uri", "url":
		v = "https://example.com/"
	case "ipv4":
		v = "192.0.2.1"
	default:
		v = "string"
	}
	if n := int(s.MinLength); len(v) < n && n <= 256 {
		v += strings.Repeat("x", n-len(v))
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// idField returns the name of the field of a response schema that identifies the created
// resource: "id" when the object has it, else the one property ending in "_id" or "Id".
func idField(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	s := ref.Value
	props := map[string]*openapi3.SchemaRef{}
	for k, v := range s.Properties {
		props[k] = v
	}
	for _, sub := range s.AllOf {
		if sub.Value != nil {
			for k, v := range sub.Value.Properties {
				props[k] = v
			}
		}
	}
	if _, ok := props["id"]; ok {
		return "id"
	}
	return ""
}
