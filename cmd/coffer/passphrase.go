package main

import "github.com/coffer-dev/coffer/internal/seal"

// passphrase returns a passphrase: the content of file when it is set (a
// file only its owner may read, without its final line ending:
// seal.ReadPassphraseFile), else the value of the environment variable
// envVar. Never a flag's value: a command line is visible to every user of
// the host. It returns nil when neither gives one; the caller zeroes what
// it gets once used.
func passphrase(file, envVar string, getenv func(string) string) ([]byte, error) {
	if file != "" {
		return seal.ReadPassphraseFile(file)
	}
	if envVar == "" {
		return nil, nil
	}
	if v := getenv(envVar); v != "" {
		return []byte(v), nil
	}
	return nil, nil
}
