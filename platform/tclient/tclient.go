// Package tclient dials Temporal for abusedesk: the SDK client with TLS, API key and the
// process's slog logger, shared by `desk dev`, `desk run` and the tools that talk to cases.
package tclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"abusedesk/platform/config"
)

// Dial connects to the cluster described by cfg and checks it answers. The SDK's metrics go
// to metrics when it is not nil.
func Dial(ctx context.Context, cfg config.Temporal, logger *slog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	opts.Logger, opts.MetricsHandler = SDKLogger(logger), metrics
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

// DialWaiting is Dial for a process that runs for long (`desk run`): a cluster that does not
// answer yet — starting, restarting, its frontend being replaced — is asked again, with a
// growing pause, for up to wait, instead of the process exiting on its first refusal. What
// asking again cannot mend (a bad TLS file, a refused API key) fails at once.
func DialWaiting(ctx context.Context, cfg config.Temporal, logger *slog.Logger, metrics client.MetricsHandler, wait time.Duration) (client.Client, error) {
	deadline := time.Now().Add(wait)
	pause := 500 * time.Millisecond
	for {
		c, err := Dial(ctx, cfg, logger, metrics)
		if err == nil || !unreachable(err) || time.Now().Add(pause).After(deadline) {
			return c, err
		}
		logger.Warn("Temporal does not answer yet; asking again", "address", cfg.Address, "in", pause, "gives_up_at", deadline.Format(time.RFC3339), "error", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// unreachable says the cluster did not answer (refused, timed out), as opposed to answering no:
// the SDK reports a dial it could not complete as serviceerror.Unavailable.
func unreachable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.As(err, &unavailable) || errors.As(err, &deadline)
}

// Options are the client options for cfg: address, namespace, TLS, API key and the payload
// codec (every client of the desk's cases, tools' and tests' too, needs the same keys).
func Options(cfg config.Temporal) (client.Options, error) {
	opts := client.Options{HostPort: cfg.Address, Namespace: cfg.Namespace}
	tlsConf, err := tlsConfig(cfg)
	if err != nil {
		return opts, err
	}
	if tlsConf != nil {
		opts.ConnectionOptions.TLS = tlsConf
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	codec, err := NewCodec(cfg.PayloadKeys)
	if err != nil {
		return opts, err
	}
	if codec != nil {
		opts.DataConverter = DataConverter(codec.Keys)
		opts.FailureConverter = FailureConverter(opts.DataConverter)
	}
	return opts, nil
}

func tlsConfig(cfg config.Temporal) (*tls.Config, error) {
	if !cfg.TLS && cfg.TLSCert == "" && cfg.TLSCA == "" && cfg.APIKey == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: load client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if cfg.TLSCA != "" {
		pem, err := os.ReadFile(cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %s holds no PEM certificate", cfg.TLSCA)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// SDKLogger bridges slog into the SDK. The SDK logs every poll error at warn; that is kept.
func SDKLogger(l *slog.Logger) sdklog.Logger {
	return sdklog.NewStructuredLogger(l.With("component", "temporal-sdk"))
}
