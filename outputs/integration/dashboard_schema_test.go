package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Go types below mirror the part of Grafana's dashboard JSON model (schemaVersion 39) that
// loadplan's dashboards use. They are decoded with unknown fields disallowed, so a misspelt key
// ("gridpos", "refid", "legendformat") fails the test instead of being ignored by Grafana.

// Dashboard is a Grafana dashboard.
type Dashboard struct {
	ID            *int        `json:"id,omitempty"`
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description,omitempty"`
	Tags          []string    `json:"tags"`
	Timezone      string      `json:"timezone"`
	Editable      bool        `json:"editable"`
	SchemaVersion int         `json:"schemaVersion"`
	Version       int         `json:"version"`
	Refresh       string      `json:"refresh"`
	GraphTooltip  int         `json:"graphTooltip"`
	Time          TimeRange   `json:"time"`
	Annotations   Annotations `json:"annotations"`
	Templating    Templating  `json:"templating"`
	Panels        []Panel     `json:"panels"`
}

// TimeRange is the dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Annotations holds annotation queries.
type Annotations struct {
	List []json.RawMessage `json:"list"`
}

// Templating holds the dashboard variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a template variable.
type Variable struct {
	Name        string          `json:"name"`
	Label       string          `json:"label"`
	Type        string          `json:"type"` // datasource, query, custom, ...
	Datasource  *DataSourceRef  `json:"datasource,omitempty"`
	Query       json.RawMessage `json:"query"` // a string, or {query, refId} for Prometheus
	Definition  string          `json:"definition,omitempty"`
	Refresh     int             `json:"refresh"`
	IncludeAll  bool            `json:"includeAll,omitempty"`
	AllValue    string          `json:"allValue,omitempty"`
	Multi       bool            `json:"multi,omitempty"`
	Sort        int             `json:"sort,omitempty"`
	Current     json.RawMessage `json:"current"`
	Hide        int             `json:"hide"`
	Options     []any           `json:"options"`
	Regex       string          `json:"regex,omitempty"`
	Description string          `json:"description,omitempty"`
}

// QueryText returns the variable's query whether it is a string or an object.
func (v *Variable) QueryText() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var o struct {
		Query string `json:"query"`
		RefID string `json:"refId"`
	}
	if err := json.Unmarshal(v.Query, &o); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor {query, refId}: %s", v.Name, v.Query)
	}
	return o.Query, nil
}

// DataSourceRef points at a datasource by type and uid (uid may be a variable).
type DataSourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Panel is a dashboard panel; rows are panels of type "row".
type Panel struct {
	ID              int              `json:"id"`
	Type            string           `json:"type"`
	Title           string           `json:"title"`
	Description     string           `json:"description,omitempty"`
	Datasource      *DataSourceRef   `json:"datasource,omitempty"`
	GridPos         GridPos          `json:"gridPos"`
	Targets         []Target         `json:"targets,omitempty"`
	FieldConfig     *FieldConfig     `json:"fieldConfig,omitempty"`
	Options         json.RawMessage  `json:"options,omitempty"`
	Transformations []Transformation `json:"transformations,omitempty"`
	Collapsed       bool             `json:"collapsed,omitempty"`
	Panels          []Panel          `json:"panels,omitempty"`   // a collapsed row's
	Interval        string           `json:"interval,omitempty"` // the panel's minimum $__interval
}

// FieldConfig holds a panel's field defaults and overrides.
type FieldConfig struct {
	Defaults  json.RawMessage   `json:"defaults"`
	Overrides []json.RawMessage `json:"overrides"`
}

// Transformation is a panel data transformation.
type Transformation struct {
	ID      string          `json:"id"`
	Options json.RawMessage `json:"options"`
}

// Target is a panel query: Expr for Prometheus, Query (raw InfluxQL) for InfluxDB.
type Target struct {
	RefID        string         `json:"refId"`
	Datasource   *DataSourceRef `json:"datasource,omitempty"`
	Expr         string         `json:"expr,omitempty"`
	LegendFormat string         `json:"legendFormat,omitempty"`
	Range        *bool          `json:"range,omitempty"`
	Instant      *bool          `json:"instant,omitempty"`
	Format       string         `json:"format,omitempty"`
	Query        string         `json:"query,omitempty"`
	RawQuery     bool           `json:"rawQuery,omitempty"`
	ResultFormat string         `json:"resultFormat,omitempty"`
	Alias        string         `json:"alias,omitempty"`
	Exemplar     *bool          `json:"exemplar,omitempty"` // Prometheus: show exemplars
}

// dashboardsDir is the repository's dashboards folder.
var dashboardsDir = filepath.Join("..", "..", "dashboards")

// loadDashboard decodes path strictly.
func loadDashboard(path string) (*Dashboard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Dashboard
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// builtins are Grafana's own variables.
var builtins = map[string]bool{"__rate_interval": true, "__interval": true, "__interval_ms": true, "__range": true,
	"__range_s": true, "__range_ms": true, "timeFilter": true, "__timeFilter": true, "tag_scenario": true, "tag_step": true, "tag_status": true}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

func TestDashboardsAreValidGrafanaJSON(t *testing.T) {
	provisioned, err := os.ReadFile(filepath.Join(dashboardsDir, "provisioning", "datasources", "loadplan.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for kind, file := range map[string]string{"prometheus": "loadplan-prometheus.json", "influxdb": "loadplan-influxdb.json"} {
		d, err := loadDashboard(filepath.Join(dashboardsDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
			t.Errorf("%s: uid %q title %q schemaVersion %d", file, d.UID, d.Title, d.SchemaVersion)
		}
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			if v.Type == "datasource" {
				var cur struct{ Value string }
				json.Unmarshal(v.Current, &cur)
				if !strings.Contains(string(provisioned), "uid: "+cur.Value+"\n") {
					t.Errorf("%s: datasource default %q is not provisioned", file, cur.Value)
				}
			}
			if v.Type == "query" {
				if _, err := v.QueryText(); err != nil {
					t.Error(err)
				}
			}
		}
		for _, want := range []string{"datasource", "testid", "scenario", "tempo", "app_datasource", "job"} {
			if !vars[want] {
				t.Errorf("%s: no %s variable", file, want)
			}
		}
		ids := map[int]bool{}
		cells := map[[2]int]int{}
		// A collapsed row's panels lie below it when it is expanded: they must not overlap each
		// other, nor what follows the row once it is open (the Application row is last).
		var all []Panel
		for _, p := range d.Panels {
			all = append(all, p)
			all = append(all, p.Panels...)
		}
		for _, p := range all {
			if ids[p.ID] {
				t.Errorf("%s: duplicate panel id %d", file, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
				t.Errorf("%s: panel %q gridPos %+v off the grid", file, p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, ok := cells[[2]int{x, y}]; ok {
						t.Errorf("%s: panel %q overlaps panel %d", file, p.Title, other)
					}
					cells[[2]int{x, y}] = p.ID
				}
			}
			if p.Type == "row" {
				continue
			}
			want := DataSourceRef{Type: kind, UID: "${datasource}"}
			if strings.HasPrefix(p.Title, "Application") {
				want = DataSourceRef{Type: "prometheus", UID: "${app_datasource}"}
			}
			if p.Datasource == nil || *p.Datasource != want || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q: datasource %+v (want %+v), %d targets", file, p.Title, p.Datasource, want, len(p.Targets))
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				q := tg.Expr
				if want.Type == "influxdb" {
					q = tg.Query
					if !tg.RawQuery {
						t.Errorf("%s: panel %q target %s is not a raw InfluxQL query", file, p.Title, tg.RefID)
					}
				}
				if q == "" || tg.RefID == "" || refs[tg.RefID] || tg.Datasource == nil || *tg.Datasource != want {
					t.Errorf("%s: panel %q: empty query, missing/duplicate refId %q or datasource %+v", file, p.Title, tg.RefID, tg.Datasource)
				}
				refs[tg.RefID] = true
				for _, m := range varRef.FindAllStringSubmatch(q, -1) {
					if !vars[m[1]] && !builtins[m[1]] {
						t.Errorf("%s: panel %q uses undefined variable $%s", file, p.Title, m[1])
					}
				}
			}
		}
	}
}
