package metrics

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"login", "login"},
		{"body contains \"ok\"", "body contains \"ok\""},
		{"café ✓ 株価", "café ✓ 株価"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\x00b\x7fc", `a\x00b\x7fc`},
		{"line\nbreak\r\ttab", `line\nbreak\r\ttab`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"c1\u0085\u009b", `c1\x85\x9b`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"\u200f kept", "\u200f kept"}, // a mark, not an override: it cannot reorder its neighbours' runs
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEscapeCleanAllocatesNothing: the printing paths call Escape on every name, nearly all clean.
func TestEscapeCleanAllocatesNothing(t *testing.T) {
	s := "http_req_duration{scenario=rest,step=quote} ✓"
	if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
		t.Errorf("Escape of a clean name allocates %v times", n)
	}
}
