package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrTimedOut is matched when a call to the adapter took longer than its
// timeout; the adapter and its process group have then been killed.
var ErrTimedOut = errors.New("timed out")

// Timeouts bound each call to the adapter, by JSON-RPC method. A method
// not listed takes the longest default. The zero value means the defaults.
type Timeouts map[string]time.Duration

// DefaultTimeouts: the handshake (get_provider_info, then validate_config)
// is short, since an adapter answers it from memory at once (every SDK
// generation does, and AltairaLabs' adapters validate without a network
// call): a program that is not an adapter, or one that hangs at start,
// fails in seconds instead of holding the run for minutes. The other calls
// reach the provider and are generous: the limits only exist so that a
// hung adapter cannot hold the job until GitHub's six-hour limit.
var DefaultTimeouts = Timeouts{
	MethodGetProviderInfo: HandshakeTimeout,
	MethodValidateConfig:  30 * time.Second,
	MethodStatus:          5 * time.Minute,
	MethodImport:          5 * time.Minute,
	MethodPlan:            30 * time.Minute,
	MethodApply:           30 * time.Minute,
	MethodDestroy:         30 * time.Minute,
}

// HandshakeTimeout is the default limit of get_provider_info: the process's
// start and its first answer. Interpreted adapters (Python, Node) start in
// a second or two, ten on a loaded runner.
const HandshakeTimeout = 10 * time.Second

// For is the timeout of method.
func (t Timeouts) For(method string) time.Duration {
	if d, ok := t[method]; ok {
		return d
	}
	if d, ok := DefaultTimeouts[method]; ok {
		return d
	}
	return 30 * time.Minute
}

// String lists the timeouts in the input's syntax, in a stable order.
func (t Timeouts) String() string {
	var parts []string
	for _, m := range timeoutMethods() {
		parts = append(parts, m+"="+t.For(m).String())
	}
	return strings.Join(parts, ",")
}

func timeoutMethods() []string {
	ms := make([]string, 0, len(DefaultTimeouts))
	for m := range DefaultTimeouts {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return ms
}

// ParseTimeouts reads the adapter-timeout input: empty for the defaults;
// one duration for every call ("10m"); method=duration pairs to set single
// calls ("plan=45m, apply=1h"); or both ("10m, apply=1h": every call 10
// minutes, apply one hour).
func ParseTimeouts(s string) (Timeouts, error) {
	t := Timeouts{}
	for k, v := range DefaultTimeouts {
		t[k] = v
	}
	var all time.Duration
	named := Timeouts{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		method, value, isPair := strings.Cut(part, "=")
		if !isPair {
			method, value = "", part
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration such as 90s, 10m or 1h", value)
		}
		if !isPair {
			all = d
			continue
		}
		method = strings.TrimSpace(method)
		if _, ok := DefaultTimeouts[method]; !ok {
			return nil, fmt.Errorf("%q is not an adapter call; use one of %s", method, strings.Join(timeoutMethods(), ", "))
		}
		named[method] = d
	}
	if all > 0 {
		for k := range t {
			t[k] = all
		}
	}
	for k, v := range named {
		t[k] = v
	}
	return t, nil
}

// WithTimeouts bounds each call (default DefaultTimeouts).
func WithTimeouts(t Timeouts) ClientOption { return func(c *clientConfig) { c.timeouts = t } }

// send runs write (one request to the adapter's stdin), giving up when ctx
// ends: an adapter that hangs before reading its stdin would otherwise
// block the write of a large request forever, past any timeout.
func (c *AdapterClient) send(ctx context.Context, write func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- write() }()
	select {
	case err := <-errc:
		if err != nil {
			// The adapter closed its stdin: it exited (or stopped reading)
			// before taking the request. Say that, not "broken pipe".
			return c.exitCause(fmt.Errorf("%w: it stopped reading before taking the request (%v)", ErrAdapterExited, err))
		}
		return nil
	case <-ctx.Done():
		c.kill() // the write fails once the adapter is gone
		return ctxError(ctx)
	}
}

// ctxError says why ctx ended: the call's timeout, or the run's
// cancellation.
func ctxError(ctx context.Context) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimedOut) {
		return cause
	}
	return fmt.Errorf("gave up waiting for the adapter: %w", ctx.Err())
}
