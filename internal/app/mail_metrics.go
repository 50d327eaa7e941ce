package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/mail"
)

// mailCollector exports how many messages need a person, beside the queue
// depth: failed (refused for good, or out of tries) and uncertain (a try
// cut off between sending and marking), counted by one query when metrics
// are scraped. An alert on either finds mail that did not go.
type mailCollector struct {
	outbox            *mail.Outbox
	failed, uncertain *prometheus.Desc
}

func newMailCollector(outbox *mail.Outbox) mailCollector {
	return mailCollector{outbox: outbox,
		failed:    prometheus.NewDesc("psims_mail_failed", "Messages the relay refused for good, or that failed every try: see the outbox page.", nil, nil),
		uncertain: prometheus.NewDesc("psims_mail_uncertain", "Messages whose sending was cut off and may or may not have gone: not sent again until a national admin chooses Send again.", nil, nil)}
}

// Describe sends the two metrics' descriptions.
func (c mailCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.failed
	ch <- c.uncertain
}

// Collect counts the messages; when the database does not answer within a
// second, both are -1.
func (c mailCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	failed, uncertain, err := c.outbox.FailedAndUncertain(ctx)
	if err != nil {
		failed, uncertain = -1, -1
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(failed))
	ch <- prometheus.MustNewConstMetric(c.uncertain, prometheus.GaugeValue, float64(uncertain))
}
