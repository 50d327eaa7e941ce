package fhir_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// FuzzDecode sends Decode anything at all: it never panics, every issue
// says what is wrong, and a resource it takes can be checked by the form
// and written again, and what is written reads back the same.
func FuzzDecode(f *testing.F) {
	c, fm := newCodec(f)
	// Small seeds: the fuzzer mutates them faster than whole events of
	// every agent, and finds its way to the rest.
	few := map[string]url.Values{"agents": {form.FieldAnswer: {"4"}}, "patients": {form.FieldAnswer: {"1"}}}
	for _, typ := range incident.Types() {
		a := fillForm(f, fm, typ, few)
		res, _ := fm.Complete(typ, a, testNow)
		body, err := c.Encode(fhir.Snapshot{Reference: "PSE-7K2M-9QXH", Type: typ, Version: 1, Updated: testNow, Answers: res.Answers})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"resourceType":"AdverseEvent","event":{"coding":[{"code":"1"}],"text":"x"},"date":"2026-01-01"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte("{\"resourceType\":\"AdverseEvent\",\"event\":{\"text\":\"NHS ９４３\u00a0476 5919\"}}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, issues := c.Decode(body)
		for _, is := range issues {
			if is.Message == "" || is.Code == "" || is.Severity == "" {
				t.Fatalf("an issue without a message, code or severity: %+v", is)
			}
		}
		if issues != nil {
			return
		}
		res, problems := fm.CompleteRecord(rec.Type, rec.Answers, time.Now())
		if problems != nil {
			return
		}
		again, err := c.Encode(fhir.Snapshot{Reference: "PSE-7K2M-9QXH", Type: rec.Type, Version: 1, Updated: testNow, Answers: res.Answers})
		if err != nil {
			t.Fatal(err)
		}
		back, issues := c.Decode(again)
		if issues != nil {
			t.Fatalf("PSIMS cannot read what it wrote: %+v\n%s", issues, again)
		}
		if res2, problems := fm.CompleteRecord(back.Type, back.Answers, time.Now()); problems != nil || !sameAnswers(res2.Answers, res.Answers) {
			t.Fatalf("what PSIMS wrote reads back differently: %v\n%v\n%v", problems, res2.Answers, res.Answers)
		}
	})
}
