package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

// Bounds of how long Stop waits for a scraper to fetch the final values.
const (
	finalScrapeMin = 2 * time.Second
	finalScrapeMax = 30 * time.Second
)

// scrapes tracks the scrapes of /metrics, so that Stop can wait for the one that sees the final
// values. Written by the HTTP handlers, read by Stop.
type scrapes struct {
	lastStart atomic.Int64 // Unix ns when the latest scrape began
	interval  atomic.Int64 // ns between the last two scrape starts
	doneStart atomic.Int64 // Unix ns when the latest completed scrape began
}

func (sc *scrapes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now().UnixNano()
		if prev := sc.lastStart.Swap(start); prev != 0 {
			sc.interval.Store(start - prev)
		}
		h.ServeHTTP(w, r)
		sc.doneStart.Store(start)
	})
}

// Handler returns the /metrics handler of the private registry.
func (p *Output) Handler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Linger returns how long Stop keeps serving after the run (the run's shutdown allows for it).
func (p *Output) Linger() time.Duration { return p.linger }

// Addr returns the address the listener is bound to (useful with port 0), once started.
func (p *Output) Addr() string {
	if p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// Start binds the listener. A port already in use is an error, before any request is sent.
func (p *Output) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.listen)
	if err != nil {
		return fmt.Errorf("prometheus: listen on %s: %w (set the output's listen address or LOADPLAN_PROMETHEUS_ADDR)", p.listen, err)
	}
	p.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/metrics", p.scrapes.wrap(p.Handler()))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "loadplan metrics: /metrics")
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.logf("prometheus: serve: %v", err)
		}
	}()
	return nil
}

// Stop pushes the final values to the Pushgateway when configured; when something has been
// scraping, waits for its next scrape, which sees the final values (bounded by three scrape
// intervals, at least 2 s and at most 30 s, and by ctx); keeps serving for the linger period
// (bounded by ctx); and closes the listener.
func (p *Output) Stop(ctx context.Context) error {
	if p.srv == nil {
		return nil
	}
	var errs []error
	if p.pushURL != "" {
		// The grouping key must not repeat a label of the metrics (testid, segment), so the
		// group is the instance: one per test id and segment, replaced by a rerun.
		instance := p.testID
		if p.segment != "" {
			instance += "-" + strings.ReplaceAll(p.segment, "/", "of")
		}
		if instance == "" {
			instance = "loadplan"
		}
		pusher := push.New(p.pushURL, "loadplan").Gatherer(p.reg).Grouping("instance", instance)
		if err := pusher.PushContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("prometheus: push to gateway: %w", err))
		}
	}
	p.awaitFinalScrape(ctx)
	if p.linger > 0 {
		p.logf("prometheus: serving final values on %s for %s", p.Addr(), p.linger)
		t := time.NewTimer(p.linger)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: shutdown: %w", err))
	}
	<-p.done
	return errors.Join(errs...)
}

// awaitFinalScrape returns once a scrape that began after the call has completed, at once when
// nothing ever scraped, or when the bound or ctx ends first.
func (p *Output) awaitFinalScrape(ctx context.Context) {
	if p.scrapes.lastStart.Load() == 0 {
		return
	}
	from := time.Now().UnixNano()
	bound := min(max(3*time.Duration(p.scrapes.interval.Load()), p.finalWait[0]), p.finalWait[1])
	if p.scrapes.doneStart.Load() < from {
		p.logf("prometheus: waiting up to %s for the scrape of the final values", bound)
	}
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for p.scrapes.doneStart.Load() < from {
		select {
		case <-tick.C:
		case <-deadline.C:
			p.logf("prometheus: no scrape of the final values within %s", bound)
			return
		case <-ctx.Done():
			return
		}
	}
}
