package server

import (
	"github.com/coffer-dev/coffer/internal/adminapi"
	"github.com/coffer-dev/coffer/internal/console"
	"github.com/coffer-dev/coffer/internal/imco"
	"github.com/coffer-dev/coffer/internal/ncloud"
	"github.com/coffer-dev/coffer/internal/okms"
	"github.com/coffer-dev/coffer/internal/scaleway"
	"github.com/coffer-dev/coffer/internal/vaultkv"
)

// Service is what the dialects need of the engine: each dialect's own
// Service. A new dialect adds its interface here and its line to routes.
type Service interface {
	scaleway.Service
	vaultkv.Service
	okms.Service
	ncloud.Service
	imco.Service
	adminapi.Service
	console.Service
}

// routes is the routes table: every API coffer serves, at its prefix (see
// Mount for how a request finds its mount). Every request under a prefix
// is answered by its dialect and audited under the mount's name; the
// operational endpoints (/healthz, /readyz) are outside every mount.
func routes(cfg Config) []Mount {
	scw := scaleway.New(scaleway.Config{
		Service: cfg.Service, Regions: cfg.Regions, MaxBodySize: cfg.MaxBodySize, Logger: cfg.Logger, Limiter: cfg.Limiter,
	})
	vault := vaultkv.New(vaultkv.Config{
		Service: cfg.Service, System: true, MaxBodySize: cfg.MaxBodySize, Now: cfg.Now, Logger: cfg.Logger, Limiter: cfg.Limiter,
	})
	// OKMS serves the Vault KV v2 API too, on the okmsId's project.
	okmsVault := vaultkv.New(vaultkv.Config{
		Service: cfg.Service, Project: okms.Project, MaxBodySize: cfg.MaxBodySize, Now: cfg.Now, Logger: cfg.Logger, Limiter: cfg.Limiter,
	})
	okmsAPI := okms.New(okms.Config{Service: cfg.Service, MaxBodySize: cfg.MaxBodySize, Logger: cfg.Logger, Limiter: cfg.Limiter})
	naver := ncloud.New(ncloud.Config{Service: cfg.Service, MaxBodySize: cfg.MaxBodySize, Logger: cfg.Logger, Limiter: cfg.Limiter})
	imcoAPI := imco.New(imco.Config{Service: cfg.Service, MaxBodySize: cfg.MaxBodySize, Logger: cfg.Logger, Limiter: cfg.Limiter})
	admin := adminapi.New(cfg.Service, cfg.Logger).WithSystem(cfg.System).WithLimiter(cfg.Limiter)
	ui := console.New(console.Config{Service: cfg.Service, MaxBodySize: cfg.MaxBodySize, Logger: cfg.Logger, Limiter: cfg.Limiter})

	return []Mount{
		{Name: "scaleway", Prefix: "/secret-manager", Handler: scw, Errors: scw},
		{Name: "scaleway", Prefix: "/metadata", Handler: scw.Metadata(), Errors: scw},
		{Name: "vaultkv", Prefix: "/v1", Handler: vault, Errors: vault},
		{Name: "okms", Prefix: "/api/{okmsId}/v2", Handler: okmsAPI, Errors: okmsAPI},
		{Name: "vaultkv", Prefix: "/api/{okmsId}/v1", Handler: okmsVault, Errors: okmsVault},
		// NAVER's /api/v1 has a literal where OKMS's /api/{okmsId}/v2 has
		// a wildcard: the two coexist (see Mount). The /secretmanager
		// prefix is that of NAVER's regional hosts.
		{Name: "ncloud", Prefix: "/api/v1", Handler: naver, Errors: naver},
		{Name: "ncloud", Prefix: "/action/v1", Handler: naver.Action(), Errors: naver},
		{Name: "ncloud", Prefix: "/secretmanager/api/v1", Handler: naver, Errors: naver},
		{Name: "ncloud", Prefix: "/secretmanager/action/v1", Handler: naver.Action(), Errors: naver},
		// IMCO's user API is under /v3; its agent API (hosts fetching a
		// secret version's content) at the root's /secret.
		{Name: "imco", Prefix: "/v3", Handler: imcoAPI, Errors: imcoAPI},
		{Name: "imco", Prefix: "/secret", Handler: imcoAPI.Agent(), Errors: imcoAPI},
		{Name: "admin", Prefix: adminapi.Prefix, Handler: admin, Errors: admin},
		// The web console; GET / sends browsers to it (server.go).
		{Name: "console", Prefix: console.Prefix, Handler: ui, Errors: ui},
	}
}
