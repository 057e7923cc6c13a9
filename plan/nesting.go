package plan

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The HCL parser (hclsyntax) recurses once or more per nesting level and Go does not recover from
// a stack overflow, so a file of 100,000 "(" kills the process instead of failing to parse. Before
// any file reaches the parser, checkNesting scans its bytes and stops at the first level deeper
// than maxNesting. The scan knows just enough of the syntax (comments, quoted strings with their
// escapes, heredocs, ${…} and %{…} templates) not to count brackets written inside text. Where it is
// unsure it counts more, never less: it may refuse a strange plan, never pass a fatal one.

// nestKind is what opened one level of nesting.
type nestKind uint8

const (
	nestCode     nestKind = iota // ( [ {
	nestTemplate                 // ${ or %{ inside a string or heredoc: code until its }
	nestString                   // "…"
	nestHeredoc                  // <<EOT … EOT
)

type nestLevel struct {
	kind   nestKind
	marker []byte // the heredoc's closing identifier
}

// checkNesting returns an error diagnostic at the first place where src nests deeper than
// maxNesting, or nil.
func checkNesting(name string, src []byte) *hcl.Diagnostic {
	if d := scanNesting(name, src); d != nil {
		return d
	}
	return rawNesting(name, src)
}

// rawNesting is the backstop of scanNesting: it counts every ( [ { against every ) ] }, in text and
// comments too, and refuses 4 × maxNesting unclosed ones. Should scanNesting ever read text where
// the parser reads code (an odd heredoc marker, say), the parser still never recurses that deep;
// and no real plan writes a thousand unclosed brackets, even in text.
func rawNesting(name string, src []byte) *hcl.Diagnostic {
	depth := 0
	for i, c := range src {
		switch c {
		case '(', '[', '{':
			if depth++; depth > 4*maxNesting {
				d := nestingDiag(name, src, i)
				d.Detail = fmt.Sprintf("More than %d brackets, braces and parentheses are open here, counting those in text and comments. "+
					"No plan needs that many; check for unbalanced brackets.", 4*maxNesting)
				return d
			}
		case ')', ']', '}':
			depth = max(0, depth-1)
		}
	}
	return nil
}

// scanNesting reads src as HCL's scanner does, as far as nesting goes.
func scanNesting(name string, src []byte) *hcl.Diagnostic {
	var stack []nestLevel
	directives := 0 // %{if …} and %{for …} bodies open but not yet closed
	lineStart := true
	for i := 0; i < len(src); {
		top := nestCode
		if len(stack) > 0 {
			top = stack[len(stack)-1].kind
		}
		c := src[i]
		switch top {
		case nestString, nestHeredoc:
			if top == nestHeredoc && lineStart && heredocEnds(src[i:], stack[len(stack)-1].marker) {
				stack = stack[:len(stack)-1]
				continue
			}
			lineStart = c == '\n'
			switch {
			case top == nestString && c == '\\':
				i += 2
				continue
			case top == nestString && (c == '"' || c == '\n'): // a newline ends a broken string
				stack = stack[:len(stack)-1]
			case bytes.HasPrefix(src[i:], []byte("$${")) || bytes.HasPrefix(src[i:], []byte("%%{")):
				i += 3
				continue
			case bytes.HasPrefix(src[i:], []byte("${")) || bytes.HasPrefix(src[i:], []byte("%{")):
				if c == '%' {
					directives += directiveDepth(src[i+2:])
				}
				stack = append(stack, nestLevel{kind: nestTemplate})
				i += 2
				if len(stack)+directives > maxNesting {
					return nestingDiag(name, src, i-2)
				}
				continue
			}
			i++
			continue
		}
		// Code, at the top level or inside a template.
		lineStart = c == '\n'
		switch {
		case c == '#' || bytes.HasPrefix(src[i:], []byte("//")):
			if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(src)
			}
			continue
		case bytes.HasPrefix(src[i:], []byte("/*")):
			if j := bytes.Index(src[i+2:], []byte("*/")); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(src)
			}
			continue
		case c == '"':
			stack = append(stack, nestLevel{kind: nestString})
		case bytes.HasPrefix(src[i:], []byte("<<")):
			if marker, n := heredocStart(src[i:]); n > 0 {
				stack = append(stack, nestLevel{kind: nestHeredoc, marker: marker})
				if len(stack)+directives > maxNesting {
					return nestingDiag(name, src, i)
				}
				i += n
				lineStart = true
				continue
			}
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, nestLevel{kind: nestCode})
		case c == ')' || c == ']' || c == '}':
			if len(stack) > 0 { // a stray closer is the parser's to report
				stack = stack[:len(stack)-1]
			}
			if c == '}' && top == nestTemplate {
				directives -= min(directives, directiveEnd(src, i))
			}
		}
		if len(stack)+directives > maxNesting {
			return nestingDiag(name, src, i)
		}
		i++
	}
	return nil
}

// parseValue parses the text of a -var flag or LOADPLAN_VAR_ variable as an expression, after
// the nesting check: the text comes from outside the plan and may be as hostile as a file.
func parseValue(raw, from string) (hclsyntax.Expression, hcl.Diagnostics) {
	if d := checkNesting(from, []byte(raw)); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseExpression([]byte(raw), from, hcl.InitialPos)
}

// heredocStart recognises `<<ID` or `<<-ID` followed by a newline and returns ID and the length up
// to and including the newline.
func heredocStart(b []byte) ([]byte, int) {
	i := 2
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	if i >= len(b) || !(b[i] == '_' || b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z') { // as HCL: a letter or _ first
		return nil, 0
	}
	for i < len(b) && (b[i] == '_' || b[i] == '-' || b[i] >= '0' && b[i] <= '9' || b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z') {
		i++
	}
	marker := b[start:i]
	if i < len(b) && b[i] == '\r' {
		i++
	}
	if i >= len(b) || b[i] != '\n' {
		return nil, 0
	}
	return marker, i + 1
}

// heredocEnds says whether the line at the start of b closes a heredoc: the marker, with only
// white space around it — as the HCL scanner decides, which trims the line with bytes.TrimSpace.
func heredocEnds(b, marker []byte) bool {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.Equal(bytes.TrimSpace(b), marker)
}

// directiveDepth is +1 for a directive that opens a body (%{if …}, %{for …}), else 0.
func directiveDepth(b []byte) int {
	w := directiveWord(b)
	if w == "if" || w == "for" {
		return 1
	}
	return 0
}

// directiveEnd is 1 when the template closed by the } at src[end] was %{endif} or %{endfor}.
func directiveEnd(src []byte, end int) int {
	open := bytes.LastIndex(src[:end], []byte("%{"))
	if open < 0 {
		return 0
	}
	if w := directiveWord(src[open+2 : end]); w == "endif" || w == "endfor" {
		return 1
	}
	return 0
}

func directiveWord(b []byte) string {
	b = bytes.TrimLeft(b, "~ \t")
	n := 0
	for n < len(b) && b[n] >= 'a' && b[n] <= 'z' {
		n++
	}
	return string(b[:n])
}

// nestingDiag is the diagnostic for nesting that passes maxNesting at src[off].
func nestingDiag(name string, src []byte, off int) *hcl.Diagnostic {
	pos := posAt(src, off)
	end := pos
	end.Byte++
	end.Column++
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Expression nested too deeply",
		Detail: fmt.Sprintf("Brackets, braces, parentheses and ${…} templates nest more than %d levels deep here. "+
			"No plan needs that many; check for unbalanced brackets, or compute the value in a local step by step.", maxNesting),
		Subject: &hcl.Range{Filename: name, Start: pos, End: end},
	}
}

// posAt is the line and column (counted in characters, as HCL does for ASCII) of src[off].
func posAt(src []byte, off int) hcl.Pos {
	off = min(off, len(src))
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[lineStart:off]), Byte: off}
}
