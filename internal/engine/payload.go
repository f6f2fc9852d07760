package engine

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/coffer-dev/coffer"
)

// validatePayload checks that data fits the secret type. The messages name
// keys and JSON types, never values.
func validatePayload(t coffer.SecretType, data []byte) error {
	switch t {
	case coffer.TypeOpaque, "":
		return nil
	case coffer.TypeCertificate:
		return validatePEM(data)
	case coffer.TypeKeyValue:
		obj, err := jsonObject(data)
		if err != nil {
			return err
		}
		var problems []string
		for _, k := range sortedKeys(obj) {
			if kind := jsonKind(obj[k]); kind == "object" || kind == "array" {
				problems = append(problems, fmt.Sprintf("- %s: Invalid type. Expected: string, given: %s\n", k, kind))
			}
		}
		return payloadProblems(problems)
	case coffer.TypeBasicCredentials:
		return validateSchema(data, []string{"username", "password"}, nil)
	case coffer.TypeDatabaseCredentials:
		return validateSchema(data, []string{"engine", "username", "password", "host", "dbname", "port"}, map[string]func(string) string{
			"port": func(s string) string {
				if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 5 {
					return "must be a port number written as a string of digits"
				}
				return ""
			},
		})
	case coffer.TypeSSHKey:
		return validateSchema(data, []string{"ssh_private_key"}, map[string]func(string) string{
			"ssh_private_key": func(s string) string {
				if b, _ := pem.Decode([]byte(s)); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
					return "must be a PEM-encoded private key"
				}
				return ""
			},
		})
	}
	return coffer.Invalid("type", coffer.ReasonConstraint, "unknown secret type")
}

func payloadProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return coffer.Invalid("data", coffer.ReasonFormat, strings.Join(problems, ""))
}

// checkJSONText refuses JSON data that is not UTF-8 (RFC 8259, section
// 8.1). encoding/json would accept it, keep it raw in a json.RawMessage
// and hand it back inside JSON answers, which then are not JSON either.
func checkJSONText(data []byte) error {
	if !utf8.Valid(data) {
		return coffer.Invalid("data", coffer.ReasonFormat, "data must be valid UTF-8")
	}
	return nil
}

// jsonObject parses data as one JSON object, in UTF-8.
func jsonObject(data []byte) (map[string]json.RawMessage, error) {
	if err := checkJSONText(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, coffer.Invalid("data", coffer.ReasonFormat, "- (root): Invalid type. Expected: object\n")
	}
	return obj, nil
}

// validateSchema checks a JSON object with exactly the required keys, all
// strings, and per-key checks.
func validateSchema(data []byte, required []string, checks map[string]func(string) string) error {
	obj, err := jsonObject(data)
	if err != nil {
		return err
	}
	var problems []string
	allowed := make(map[string]bool, len(required))
	for _, k := range required {
		allowed[k] = true
		raw, ok := obj[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("- (root): %s is required\n", k))
			continue
		}
		var s string
		if kind := jsonKind(raw); kind != "string" {
			problems = append(problems, fmt.Sprintf("- %s: Invalid type. Expected: string, given: %s\n", k, kind))
			continue
		}
		_ = json.Unmarshal(raw, &s)
		if check := checks[k]; check != nil {
			if msg := check(s); msg != "" {
				problems = append(problems, fmt.Sprintf("- %s: %s\n", k, msg))
			}
		}
	}
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			problems = append(problems, fmt.Sprintf("- (root): Additional property %s is not allowed\n", truncate(k, 64)))
		}
	}
	return payloadProblems(problems)
}

// validatePEM checks that data is one or more PEM blocks and nothing else.
func validatePEM(data []byte) error {
	rest := bytes.TrimSpace(data)
	if len(rest) == 0 {
		return coffer.Invalid("data", coffer.ReasonFormat, "certificate must hold at least one PEM block")
	}
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return coffer.Invalid("data", coffer.ReasonFormat, "certificate must be a concatenation of PEM blocks")
		}
		rest = bytes.TrimSpace(rest)
	}
	return nil
}

func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
