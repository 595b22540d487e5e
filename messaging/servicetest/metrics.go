package servicetest

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Counter returns the value of the counter name in the default registry,
// summed over the series whose labels include every one of match.
func Counter(t testing.TB, name string, match map[string]string) float64 {
	t.Helper()
	s, _ := sum(family(t, name), match)
	return s.Value
}

// Series returns how many label sets the metric name has in the default
// registry.
func Series(t testing.TB, name string) int {
	t.Helper()
	return len(family(t, name).GetMetric())
}

// family is metric name as the default registry gathers it; nil when it
// has none.
func family(t testing.TB, name string) *dto.MetricFamily {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Sample is a metric as a registry or a scrape reports it.
type Sample struct {
	// Help is the metric's help text.
	Help string
	// Value is a gauge's or a counter's value, or a histogram's count,
	// summed over the series asked for.
	Value float64
}

// Metric returns metric name in the default registry summed over its
// series whose labels include every one of match, and whether there is
// any such series: a test that a labelled series exists before its first
// event, or that a gauge moved.
func Metric(t testing.TB, name string, match map[string]string) (Sample, bool) {
	t.Helper()
	return sum(family(t, name), match)
}

func sum(mf *dto.MetricFamily, match map[string]string) (s Sample, found bool) {
	s.Help = mf.GetHelp()
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !matches(labels, match) {
			continue
		}
		found = true
		s.Value += m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue() +
			float64(m.GetHistogram().GetSampleCount())
	}
	return s, found
}

// Scraped is what a service's /metrics answered, by metric name.
type Scraped map[string]*dto.MetricFamily

// Scrape reads baseURL's /metrics as Prometheus does, failing the test
// when it does not answer 200 in the text format.
func Scrape(t testing.TB, baseURL string) Scraped {
	t.Helper()
	res, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", baseURL, res.Status)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", baseURL, err)
	}
	return families
}

// Metric returns metric name summed over its series whose labels include
// every one of match, and whether there is any such series.
func (s Scraped) Metric(name string, match map[string]string) (Sample, bool) {
	if mf, ok := s[name]; ok {
		return sum(mf, match)
	}
	return Sample{}, false
}

// SampleNames are the names a query may use: each metric's, and a
// histogram's or a summary's _bucket, _sum and _count.
func (s Scraped) SampleNames() map[string]bool {
	names := map[string]bool{}
	for name, mf := range s {
		names[name] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[name+suffix] = true
			}
		}
	}
	return names
}
