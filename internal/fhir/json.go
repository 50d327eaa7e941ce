package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/psims/psims/internal/pii"
)

// Bounds on what a request body may hold, so that no resource, however
// shaped, costs much to read: the whole body is already at most MaxBody.
const (
	// MaxBody is the largest body accepted, in bytes.
	MaxBody = 1 << 20
	// maxDepth is how deeply objects and arrays may nest. An AdverseEvent
	// of the national profile nests 8 deep.
	maxDepth = 12
	// maxArray is the most items any one array may hold. The longest of the
	// profile is a patient's list of PatientInformation extensions (100).
	maxArray = 200
	// maxKeys is the most members any one object may have.
	maxKeys = 64
)

// readJSON parses body as one JSON value, within the bounds above, with
// numbers kept as written. Duplicate member names, invalid UTF-8 and
// anything after the value are refused. The problem is one line that says
// where, safe to show: it never quotes the body.
func readJSON(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the body holds something after the resource")
	}
	return v, nil
}

// readValue reads the next value of dec, at the given depth.
func readValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(dec, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("the JSON nests more than %d levels deep", maxDepth)
		}
		if t == '{' {
			return readObject(dec, depth+1)
		}
		if t == '[' {
			return readArray(dec, depth+1)
		}
		return nil, syntaxError(dec, fmt.Errorf("unexpected %v", t))
	default:
		return t, nil
	}
}

func readObject(dec *json.Decoder, depth int) (any, error) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(dec, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, syntaxError(dec, errors.New("expected a member name"))
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("the member %s appears twice in one object", strconv.Quote(safeName(key)))
		}
		if len(obj) >= maxKeys {
			return nil, fmt.Errorf("an object has more than %d members", maxKeys)
		}
		v, err := readValue(dec, depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(dec, err)
	}
	return obj, nil
}

func readArray(dec *json.Decoder, depth int) (any, error) {
	arr := []any{}
	for dec.More() {
		if len(arr) >= maxArray {
			return nil, fmt.Errorf("an array has more than %d items", maxArray)
		}
		v, err := readValue(dec, depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(dec, err)
	}
	return arr, nil
}

// syntaxError says where the JSON went wrong, by byte offset.
func syntaxError(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON ends too soon")
	}
	return fmt.Errorf("the JSON is not valid near byte %d", dec.InputOffset())
}

// safeName is a member name as messages may repeat it: names of the
// resource are short words; anything else is cut, so a message never
// carries much of what was sent.
func safeName(s string) string {
	if len(pii.Scan(s)) > 0 {
		return "(a name holding an identifier)"
	}
	for i, r := range s {
		if i >= 40 || !(r == '_' || r == '-' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return s[:i] + "…"
		}
	}
	return s
}
