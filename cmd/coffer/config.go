package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/coffer-dev/coffer/internal/node"
)

// placeholderAccessKey stands in for the access key when none is known: the
// SDK demands one of this form, the server authenticates by the secret key.
const placeholderAccessKey = "SCWCOFFERCLIENT00000"

var (
	accessKeyRE = regexp.MustCompile(`^SCW[A-Z0-9]{17}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}-[a-z]{3,7}$`)
	uuidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// config says where the server is and how to call it.
type config struct {
	addr      string // base URL, no trailing slash
	accessKey string
	secretKey string
	project   string // may be empty: the API key's default project
	region    string
	// keyFrom says where the secret key came from, for messages.
	keyFrom string
}

// loadConfig reads COFFER_ADDR, COFFER_TOKEN, COFFER_PROJECT and
// COFFER_REGION, and fills what they leave unset from the credentials file
// of the data directory: dataDir, else COFFER_DATA_DIR, else ./coffer-data.
func loadConfig(getenv func(string) string, dataDir string) (*config, error) {
	c := &config{
		addr:      getenv("COFFER_ADDR"),
		secretKey: getenv("COFFER_TOKEN"),
		project:   getenv("COFFER_PROJECT"),
		region:    getenv("COFFER_REGION"),
		accessKey: placeholderAccessKey,
		keyFrom:   "COFFER_TOKEN",
	}
	addrFrom, projectFrom := "COFFER_ADDR", "COFFER_PROJECT"
	if c.addr == "" || c.secretKey == "" || c.project == "" {
		if dataDir == "" {
			dataDir = getenv("COFFER_DATA_DIR")
		}
		if dataDir == "" {
			dataDir = "coffer-data"
		}
		path := filepath.Join(dataDir, node.CredentialsFile)
		creds, err := readCredentials(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if c.addr == "" || c.secretKey == "" {
				return nil, &usageError{msg: fmt.Sprintf("no server configured: set COFFER_ADDR and COFFER_TOKEN "+
					"(and COFFER_PROJECT), or point --data-dir or COFFER_DATA_DIR at the data directory holding %s "+
					"(%s does not exist)", node.CredentialsFile, path)}
			}
		case err != nil:
			return nil, err
		default:
			if c.addr == "" {
				c.addr, addrFrom = creds.APIURL, path
			}
			if c.secretKey == "" {
				c.secretKey, c.keyFrom = creds.SecretKey, path
			}
			if c.project == "" {
				c.project, projectFrom = creds.ProjectID, path
			}
			if c.region == "" {
				c.region = creds.Region
			}
			if accessKeyRE.MatchString(creds.AccessKey) {
				c.accessKey = creds.AccessKey
			}
		}
	}
	if c.region == "" {
		c.region = "fr-par"
	}
	return c, c.validate(addrFrom, projectFrom)
}

// validate checks the configuration before the SDK does, so that its
// messages never echo the secret key.
func (c *config) validate(addrFrom, projectFrom string) error {
	if c.addr == "" {
		return &usageError{msg: fmt.Sprintf("no server address: set COFFER_ADDR (%s has no api_url)", addrFrom)}
	}
	addr, err := baseURL(c.addr, addrFrom)
	if err != nil {
		return err
	}
	c.addr = addr
	if c.secretKey == "" {
		return &usageError{msg: fmt.Sprintf("no API key: set COFFER_TOKEN (%s has no secret_key)", c.keyFrom)}
	}
	if !uuidRE.MatchString(c.secretKey) {
		return &usageError{msg: fmt.Sprintf("the API secret key from %s is malformed: it should be a UUID", c.keyFrom)}
	}
	if c.project != "" && !uuidRE.MatchString(c.project) {
		return &usageError{msg: fmt.Sprintf("project id %q (from %s) is not a UUID", c.project, projectFrom)}
	}
	if !regionRE.MatchString(c.region) {
		return &usageError{msg: fmt.Sprintf("region %q is not a region name such as fr-par", c.region)}
	}
	return nil
}

// baseURL checks that addr, read from the source named from, is a base URL
// such as http://127.0.0.1:8080 with no user, query or fragment, and returns
// it without a trailing slash.
func baseURL(addr, from string) (string, error) {
	u, err := url.Parse(addr)
	if err == nil && u.User != nil {
		// Not quoted: the user part may hold a password.
		return "", &usageError{msg: fmt.Sprintf("the server address from %s holds a user name or password: give a base URL such as http://127.0.0.1:8080 and the key apart", from)}
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &usageError{msg: fmt.Sprintf("server address %q (from %s) is not a base URL such as http://127.0.0.1:8080", addr, from)}
	}
	return strings.TrimRight(addr, "/"), nil
}

// readCredentials reads an admin credentials file written by coffer serve.
func readCredentials(path string) (*node.Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	defer clear(b)
	var c node.Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		// The decoder's message may quote the file; the file holds a key.
		return nil, fmt.Errorf("read credentials: %s is not a JSON credentials file", path)
	}
	return &c, nil
}
