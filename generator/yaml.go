package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	yaml "go.yaml.in/yaml/v2"
	networkingv1 "k8s.io/api/networking/v1"
)

// marshalYAML writes v as sigs.k8s.io/yaml.Marshal does, byte for byte:
// through JSON, so that the json tags and omitempty decide the fields, to
// the same generic value, which YAML marshals with its keys sorted. Where
// that package parses the JSON back as YAML to find the value, this
// decodes it as JSON, which makes the same value in about half the time
// and memory: JSON has no scalars a YAML parser would resolve differently
// than below. A NetworkPolicy, what flowpol writes most, skips JSON:
// policyValue builds the same value from its fields.
func marshalYAML(v any) ([]byte, error) {
	if p, ok := v.(*networkingv1.NetworkPolicy); ok {
		if value, ok := policyValue(p); ok {
			return yaml.Marshal(value)
		}
	}
	return marshalGeneric(v)
}

// marshalGeneric is marshalYAML for any value, through JSON.
func marshalGeneric(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal to JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	generic, err = yamlValue(generic)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(generic)
}

// yamlValue turns a JSON value decoded with UseNumber into the value YAML
// decodes the same JSON to: maps keyed by interface values, numbers as
// int, then int64 or uint64 when they do not fit, then float64.
func yamlValue(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[any]any, len(v))
		for k, x := range v {
			y, err := yamlValue(x)
			if err != nil {
				return nil, err
			}
			m[k] = y
		}
		return m, nil
	case []any:
		for i, x := range v {
			y, err := yamlValue(x)
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
		return v, nil
	case json.Number:
		return yamlNumber(string(v))
	}
	return v, nil // string, bool or nil
}

// yamlNumber is a JSON number as YAML resolves it.
func yamlNumber(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i == int64(int(i)) {
			return int(i), nil
		}
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s: %w", s, err)
	}
	return f, nil
}
