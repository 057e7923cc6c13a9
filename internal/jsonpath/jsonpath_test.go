package jsonpath

import (
	"encoding/json"
	"testing"
)

func TestTextKeepsTheNumbersAsSent(t *testing.T) {
	doc, err := Decode([]byte(`{"id": 12345678901234567890123, "p": 1.50, "e": 1E3, "o": {"p": 1.50}, "n": null, "b": false}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"id": "12345678901234567890123", "p": "1.50", "e": "1E3",
		"o": `{"p":1.50}`, "n": "", "b": "false"} {
		v, ok := Lookup(doc, path)
		if got := Text(v); !ok || got != want {
			t.Errorf("Text(%s) = %q (found %v), want %q", path, got, ok, want)
		}
	}
}

func TestNumbersCompareByValue(t *testing.T) {
	for _, c := range []struct {
		a, b any
		want bool
	}{
		{json.Number("1.50"), json.Number("1.5"), true},
		{json.Number("1.50"), 1.5, true},
		{1.5, json.Number("1.50"), true},
		{json.Number("2"), 2.0, true},
		{json.Number("2"), 3.0, false},
		{json.Number("1"), "1", false},
		{json.Number("1e400"), json.Number("1e400"), true},
		{json.Number("1e400"), json.Number("2e400"), false},
		{"a", "a", true},
		{nil, nil, true},
	} {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Subset(c.a, c.b); got != c.want {
			t.Errorf("Subset(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	got, _ := Decode([]byte(`{"type": "quote", "px": 1.50, "extra": [1]}`))
	if !Subset(map[string]any{"type": "quote", "px": 1.5}, got) {
		t.Error("a float64 pattern does not match the json.Number frame it equals")
	}
	if Equal(map[string]any{"type": "quote"}, got) {
		t.Error("Equal ignores extra keys")
	}
}

func TestDocDecodesOnce(t *testing.T) {
	var d Doc
	if _, ok := d.Get([]byte(`{"a":`)); ok {
		t.Fatal("truncated JSON decoded")
	}
	if _, ok := d.Get([]byte(`{"a":1}`)); ok {
		t.Error("Doc decoded a second time")
	}
}

// TestSubsetAndPath holds the WebSocket matcher's cases (float64 values, as plan templates give).
func TestSubsetAndPath(t *testing.T) {
	doc := map[string]any{"type": "data", "n": 3.0, "items": []any{map[string]any{"id": "a"}, 2.0}, "ok": true}
	subset := []struct {
		want any
		ok   bool
	}{
		{map[string]any{"type": "data"}, true},
		{map[string]any{"type": "data", "n": 3.0}, true},
		{map[string]any{"type": "other"}, false},
		{map[string]any{"missing": nil}, false},
		{map[string]any{"items": []any{map[string]any{}, 2.0}}, true},
		{map[string]any{"items": []any{2.0}}, false},
		{"data", false},
		{map[string]any{}, true},
	}
	for _, c := range subset {
		if got := Subset(c.want, doc); got != c.ok {
			t.Errorf("Subset(%v) = %v", c.want, got)
		}
	}
	paths := map[string]string{"type": "data", "$.n": "3", "items.0.id": "a", "items.1": "2", "ok": "true", "items.0": `{"id":"a"}`}
	for p, want := range paths {
		v, ok := Lookup(doc, p)
		if !ok || Text(v) != want {
			t.Errorf("path %q = %v %v, want %q", p, v, ok, want)
		}
	}
	for _, p := range []string{"nope", "items.5", "items.x", "type.deeper"} {
		if _, ok := Lookup(doc, p); ok {
			t.Errorf("path %q found something", p)
		}
	}
}
