package plan

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Options are the inputs of Load that come from outside the plan files. cmd fills them from the
// process; tests fill them by hand, which is what makes plans testable.
type Options struct {
	Env      map[string]string // what env() reads, and LOADPLAN_VAR_name variables
	Vars     map[string]string // -var name=value, raw text parsed by the variable's type
	VarFiles []string          // -var-file paths (HCL: name = value)
	// Instances is how many loadplan instances share the load (TOTAL of --segment INDEX/TOTAL;
	// 0 means one). The bounds on VUs, WebSocket sessions and rates hold per instance, so a plan
	// split across N instances may ask for N times as much.
	Instances int
	// Outputs are the output kinds' schemas (outputs/registry's Schemas): plan knows no output's
	// fields. Nil takes every output block unchecked, its attributes as constants.
	Outputs []*OutputSchema
	// FileRead, when set, is called with the path of every file that file() reads, so that
	// `loadplan deploy` can ship a plan's data files with it. Loading calls it on one goroutine.
	FileRead func(path string)
}

// SensitiveMark marks values that come from env(): they may be used, never shown.
const SensitiveMark = "sensitive"

// impureFuncs change value on every call, so an expression calling them is evaluated per iteration.
var impureFuncs = map[string]bool{"uuid": true, "random_int": true, "random_item": true, "timestamp": true}

// Functions returns the functions a plan may call. baseDir resolves file() paths. The functions
// that can build values much larger than their arguments are bounded (funcbounds.go).
func Functions(opts Options, baseDir string) map[string]function.Function {
	fns := map[string]function.Function{
		"env":          envFunc(opts.Env),
		"file":         fileFunc(baseDir, opts.FileRead),
		"uuid":         uuidFunc,
		"random_int":   randomIntFunc,
		"random_item":  randomItemFunc,
		"timestamp":    timestampFunc,
		"base64encode": base64EncodeFunc,
		"base64decode": base64DecodeFunc,
		"jsonencode":   boundedJSONEncode,
		"jsondecode":   boundedJSONDecode,
		"format":       boundedFormat,
		"lower":        stdlib.LowerFunc,
		"upper":        stdlib.UpperFunc,
		"concat":       boundedConcat,
		"join":         boundedJoin,
		"split":        boundedSplit,
		"length":       stdlib.LengthFunc,
		"replace":      boundedReplace,
		"trimspace":    stdlib.TrimSpaceFunc,
		"substr":       stdlib.SubstrFunc,
		"coalesce":     stdlib.CoalesceFunc,
		"contains":     stdlib.ContainsFunc,
		"keys":         stdlib.KeysFunc,
		"values":       stdlib.ValuesFunc,
		"merge":        boundedMerge,
		"range":        boundedRange,
		"min":          stdlib.MinFunc,
		"max":          stdlib.MaxFunc,
		"abs":          stdlib.AbsoluteFunc,
		"ceil":         stdlib.CeilFunc,
		"floor":        stdlib.FloorFunc,
		"tostring":     stdlib.MakeToFunc(cty.String),
		"tonumber":     stdlib.MakeToFunc(cty.Number),
		"tobool":       stdlib.MakeToFunc(cty.Bool),
	}
	return fns
}

// FunctionNames lists the functions, for diagnostics that suggest a name.
func FunctionNames() []string {
	var out []string
	for name := range Functions(Options{}, "") {
		out = append(out, name)
	}
	return out
}

func envFunc(env map[string]string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable; the value is secret and never shown.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			if v, ok := env[name]; ok {
				return cty.StringVal(v).Mark(SensitiveMark), nil
			}
			if len(args) == 2 {
				return cty.StringVal(args[1].AsString()).Mark(SensitiveMark), nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "environment variable %s is not set; set it, or give a default: env(%q, \"...\")", name, name)
		},
	})
}

func fileFunc(baseDir string, read func(string)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file relative to the plan file.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			b, err := readBounded(p, maxFileSize)
			switch {
			case errors.Is(err, errNotRegular) || errors.Is(err, errTooLarge):
				return cty.NilVal, function.NewArgErrorf(0, "%s is %v; file() reads a regular file of at most %s", args[0].AsString(), err, byteSize(maxFileSize))
			case err != nil:
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %s: %v", args[0].AsString(), unwrapPathErr(err))
			}
			if read != nil {
				read(p)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

var uuidFunc = function.New(&function.Spec{
	Description: "A random (version 4) UUID, new on every call.",
	Type:        function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return cty.StringVal(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])), nil
	},
})

var randomIntFunc = function.New(&function.Spec{
	Description: "A random integer in [min, max], new on every call.",
	Params:      []function.Parameter{{Name: "min", Type: cty.Number}, {Name: "max", Type: cty.Number}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		lo, _ := args[0].AsBigFloat().Int64()
		hi, _ := args[1].AsBigFloat().Int64()
		if hi < lo {
			return cty.NilVal, function.NewArgErrorf(1, "max (%d) is below min (%d)", hi, lo)
		}
		n, err := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
		if err != nil {
			return cty.NilVal, err
		}
		return cty.NumberIntVal(lo + n.Int64()), nil
	},
})

var randomItemFunc = function.New(&function.Spec{
	Description: "A random element of a list, new on every call.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:        function.StaticReturnType(cty.DynamicPseudoType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		l := args[0]
		if !l.Type().IsListType() && !l.Type().IsTupleType() && !l.Type().IsSetType() {
			return cty.NilVal, function.NewArgErrorf(0, "random_item takes a list")
		}
		items := l.AsValueSlice()
		if len(items) == 0 {
			return cty.NilVal, function.NewArgErrorf(0, "random_item of an empty list")
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(items))))
		return items[n.Int64()], nil
	},
})

var timestampFunc = function.New(&function.Spec{
	Description: "The current time, RFC 3339, UTC.",
	Type:        function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.StringVal(time.Now().UTC().Format(time.RFC3339Nano)), nil
	},
})

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Base64-encodes a string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String, AllowMarked: true}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(v.AsString()))).WithMarks(marks), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes a base64 string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String, AllowMarked: true}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		b, err := base64.StdEncoding.DecodeString(v.AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "not valid base64: %v", err)
		}
		return cty.StringVal(string(b)).WithMarks(marks), nil
	},
})
