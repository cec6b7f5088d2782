// Package notify tells people where they are: a webhook that takes
// Slack's message JSON ({"text": ...}; Slack's incoming webhooks, and
// Mattermost, Rocket.Chat, Zulip and others that accept its format) gets a
// message when an apply fails, drift is found or a rollback runs. Every
// message is masked by the run's one masker before it leaves, and text
// that came from a pull request or an adapter is escaped so it cannot
// link, mention or ping.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Kinds of events, as the notify-on input names them.
const (
	ApplyFailed = "apply-failed"
	Drift       = "drift"
	Rollback    = "rollback"
)

// Kinds lists every kind, for the input's check and its default.
var Kinds = []string{ApplyFailed, Drift, Rollback}

// ErrBadURL is matched by a webhook address that is not https (or http to
// a loopback address, for tests).
var ErrBadURL = errors.New("not a webhook address")

// Message is one notification.
type Message struct {
	Kind  string
	Icon  string   // an emoji shortcode, e.g. ":x:"
	Title string   // trusted: written by the action, names escaped by the caller
	Lines []string // untrusted text (adapter messages, names): escaped here
	// Link is the run's address, shown as its label.
	Link, LinkLabel string
}

// Escape makes untrusted text inert in every service that takes Slack's
// JSON. Slack: <, > and & are the only characters it asks to escape;
// without < no link, mention or <!channel> can be written. Mattermost and
// Rocket.Chat read the text as Markdown and ping on @channel, @here, @all
// and @name: a zero-width space after every @ and between ] and ( leaves
// no mention and no [text](address) link, and one in :// no address a
// service links by itself (a bare domain may still be, as in any text).
func Escape(s string) string { return escaper.Replace(s) }

const zwsp = "\u200b"

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
	"@", "@"+zwsp, "](", "]"+zwsp+"(", "://", ":"+zwsp+"//")

// Text is the message as Slack's mrkdwn.
func (m Message) Text() string {
	var b strings.Builder
	if m.Icon != "" {
		b.WriteString(m.Icon + " ")
	}
	b.WriteString("*" + m.Title + "*")
	for _, l := range m.Lines {
		b.WriteString("\n" + Escape(l))
	}
	if m.Link != "" {
		b.WriteString("\n<" + strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(m.Link) + "|" + Escape(m.LinkLabel) + ">")
	}
	return b.String()
}

// Webhook posts messages to one address.
type Webhook struct {
	URL    string
	Client *http.Client
	// Mask removes every secret the run knows from the body before it is
	// sent (the run's one masker).
	Mask func(string) string
}

// Check says whether raw can be a webhook address: https, or http to a
// loopback host.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: it does not parse as a URL", ErrBadURL)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"):
		return nil
	}
	return fmt.Errorf("%w: it must be https (the address carries the webhook's secret)", ErrBadURL)
}

// Secrets are the parts of a webhook address a log line may show on their
// own, each to be masked besides the whole address: the address without
// its query (as a retry's log line names a request), its path (Slack's and
// Discord's token), its user info and every query value long enough to be
// a key (Zulip's api_key). Short parts ("true", "/x") are left: masking
// them would blot out ordinary words.
func Secrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	const long = 8
	var out []string
	add := func(s string) {
		if len(s) >= long {
			out = append(out, s)
		}
	}
	bare := *u
	bare.RawQuery, bare.Fragment, bare.RawFragment = "", "", ""
	add(bare.String())
	bare.User = nil
	add(bare.String())
	add(u.EscapedPath())
	add(u.Path)
	if p, ok := u.User.Password(); ok {
		add(p)
	}
	add(u.User.Username())
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
		}
	}
	return out
}

// Send posts m as {"text": ...}. A notification is a courtesy: the caller
// warns on an error and carries on. It is sent once: a webhook POST is
// not idempotent, and a message posted twice is worse than a warning.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if w.Mask != nil {
		// Each untrusted line before it is escaped, too: escaping changes
		// a secret holding &, <, @ or :// into text the masker does not
		// know.
		lines := make([]string, len(m.Lines))
		for i, l := range m.Lines {
			lines[i] = w.Mask(l)
		}
		m.Lines, m.LinkLabel = lines, w.Mask(m.LinkLabel)
	}
	text := m.Text()
	if w.Mask != nil {
		text = w.Mask(text)
	}
	body, _ := json.Marshal(struct {
		Text string `json:"text"`
	}{text})
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: %w", ErrBadURL)
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error names the address, which holds the webhook's secret.
		return errors.New("notify: the webhook could not be reached")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: the webhook answered %s", resp.Status)
	}
	return nil
}
