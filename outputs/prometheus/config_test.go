package prometheus

import (
	"testing"
	"time"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// TestFlag: `--out prometheus=ADDR,linger=DUR,…` sets the block's attributes, and the output built
// from it lingers for that long; an option written wrong is an error that says what to write.
func TestFlag(t *testing.T) {
	for _, c := range []struct {
		value string
		want  Config
	}{
		{"", Config{Listen: DefaultListen}},
		{":9999", Config{Listen: ":9999"}},
		{"0.0.0.0:9646,linger=15s", Config{Listen: "0.0.0.0:9646", Linger: 15 * time.Second}},
		{"linger=1m30s", Config{Listen: DefaultListen, Linger: 90 * time.Second}},
		{"linger=2s,listen=[::1]:0,testid=ci-7,push_gateway=http://127.0.0.1:9091",
			Config{Listen: "[::1]:0", Linger: 2 * time.Second, TestID: "ci-7", PushGateway: "http://127.0.0.1:9091"}},
	} {
		b := &plan.OutputBlock{Kind: "prometheus"}
		if err := Kind.Flag(c.value, b); err != nil {
			t.Errorf("%q: %v", c.value, err)
			continue
		}
		Kind.Schema.FillDefaults(b)
		if got := ConfigOf(b); got != c.want {
			t.Errorf("%q: config %+v, want %+v", c.value, got, c.want)
		}
		if problems := Kind.Schema.Check(b); len(problems) > 0 {
			t.Errorf("%q: check %+v", c.value, problems)
		}
		o, err := Kind.New(b, outputs.Options{PlanName: "p"})
		if err != nil {
			t.Errorf("%q: New: %v", c.value, err)
			continue
		}
		if got := o.(*Output).Linger(); got != c.want.Linger {
			t.Errorf("%q: output lingers %s, want %s", c.value, got, c.want.Linger)
		}
	}
	for value, want := range map[string]string{
		"0.0.0.0:9646,linger=15":     `linger "15" is not a duration of 0 or more: write e.g. linger=15s`,
		"0.0.0.0:9646,linger=-1s":    `linger "-1s" is not a duration of 0 or more: write e.g. linger=15s`,
		"0.0.0.0:9646,lnger=15s":     `has no option "lnger": it takes an address and linger=…, push_gateway=…, testid=…, e.g. --out prometheus=0.0.0.0:9646,linger=15s`,
		"0.0.0.0:9646,,linger=15s":   `has an empty option in "0.0.0.0:9646,,linger=15s": separate options by one comma, e.g. --out prometheus=0.0.0.0:9646,linger=15s`,
		":1,listen=:2":               `has listen twice in ":1,listen=:2": give it once`,
		"9646":                       `listen address "9646" is not host:port: write e.g. 127.0.0.1:9646 or :9646`,
		":9646,testid=":              `option testid has no value: write testid=VALUE, e.g. --out prometheus=0.0.0.0:9646,linger=15s`,
		":9646,push_gateway=gw:9091": `push_gateway "gw:9091" is not an http(s) URL: write e.g. push_gateway=http://127.0.0.1:9091`,
	} {
		err := Kind.Flag(value, &plan.OutputBlock{Kind: "prometheus"})
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v\nwant %s", value, err, want)
		}
	}
}
