// Package metrics defines Gatehouse's Prometheus metrics and serves them.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one server. It implements core.Metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	refresh  *prometheus.CounterVec
	reuse    prometheus.Counter
	pwCheck  prometheus.Counter
}

// New registers the collectors in a fresh registry (with Go and process collectors).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total", Help: "Sign-in attempts by outcome (success or error id).",
		}, []string{"outcome"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_refreshes_total", Help: "Refresh attempts by outcome: rotated, retried, reused, invalid, wrong_client (a session another client owns; nothing revoked), error.",
		}, []string{"outcome"}),
		reuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_refresh_reuse_detected_total", Help: "Rotated refresh tokens presented again; each revoked its session.",
		}),
		pwCheck: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_password_checks_total", Help: "Password checks run (sign-in, password change, re-authentication), unknown users' equal work included; attempts refused by throttling are not.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.logins, m.refresh, m.reuse, m.pwCheck,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route, code string, d time.Duration) {
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// Login counts a sign-in attempt.
func (m *Metrics) Login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// Refresh counts a refresh attempt; "reused" also counts a reuse detection.
func (m *Metrics) Refresh(outcome string) {
	m.refresh.WithLabelValues(outcome).Inc()
	if outcome == "reused" {
		m.reuse.Inc()
	}
}

// PasswordCheck counts one password hash verified.
func (m *Metrics) PasswordCheck() { m.pwCheck.Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
