package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/mask"
)

// TestMessageIsInert: untrusted text cannot link, mention or ping, and the
// masker sees the whole body, so a secret anywhere in it is removed.
func TestMessageIsInert(t *testing.T) {
	m := mask.NewMasker()
	m.Add("s3cr3t-t0ken-value")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		got = body.Text
	}))
	defer srv.Close()
	hook := &Webhook{URL: srv.URL, Client: srv.Client(), Mask: m.String}
	msg := Message{Kind: ApplyFailed, Icon: ":x:", Title: "Arena apply to production failed",
		Lines: []string{"<!channel> <@U123> <https://evil.example|click> & s3cr3t-t0ken-value"}, Link: "https://github.com/o/r/actions/runs/1?a=<b>|c", LinkLabel: "run 1"}
	if err := hook.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<!channel>", "<@U123>", "<https://evil", "s3cr3t-t0ken-value"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q reached the message: %s", bad, got)
		}
	}
	if !strings.Contains(got, "&lt;!channel&gt;") || !strings.Contains(got, "<https://github.com/o/r/actions/runs/1?a=%3Cb%3E%7Cc|run 1>") {
		t.Errorf("message: %s", got)
	}
}

func TestSendErrorsNeverNameTheAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) }))
	defer srv.Close()
	err := (&Webhook{URL: srv.URL + "/secret-path", Client: srv.Client()}).Send(context.Background(), Message{Title: "x"})
	if err == nil || strings.Contains(err.Error(), "secret-path") {
		t.Errorf("500: err = %v", err)
	}
	err = (&Webhook{URL: "http://127.0.0.1:1/secret-path"}).Send(context.Background(), Message{Title: "x"})
	if err == nil || strings.Contains(err.Error(), "secret-path") {
		t.Errorf("unreachable: err = %v", err)
	}
	for _, bad := range []string{"http://hooks.example.com/x", "ftp://x/y", "not a url", "https://"} {
		if err := Check(bad); !errors.Is(err, ErrBadURL) {
			t.Errorf("Check(%q) = %v", bad, err)
		}
	}
	if err := Check("https://hooks.slack.com/services/T/B/x"); err != nil {
		t.Error(err)
	}
}

// TestSecrets: every part of an address that holds its token is masked on
// its own; short words are not.
func TestSecrets(t *testing.T) {
	got := Secrets("https://user:pa55word-x@chat.example.com/api/v1/external/slack_incoming?api_key=k3y-0f-zul1p&stream=ops#frag")
	for _, want := range []string{"https://user:pa55word-x@chat.example.com/api/v1/external/slack_incoming",
		"https://chat.example.com/api/v1/external/slack_incoming", "/api/v1/external/slack_incoming", "pa55word-x", "k3y-0f-zul1p"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets lacks %q: %q", want, got)
		}
	}
	if slices.Contains(got, "ops") || slices.Contains(got, "user") {
		t.Errorf("short parts masked: %q", got)
	}
}

// TestMentionsAndLinksInertEverywhere: the services that take Slack's JSON
// read the text their own way: Mattermost and Rocket.Chat ping on @channel,
// @here, @all and @name and render Markdown links; Slack and they link
// bare addresses. None of it works from untrusted text.
func TestMentionsAndLinksInertEverywhere(t *testing.T) {
	got := Message{Title: "t", Lines: []string{"@channel @here @all @alice [docs](https://evil.example/x) see https://evil.example\n[1]: https://evil.example"}}.Text()
	for _, bad := range []string{"@channel", "@here", "@all", "@alice", "](", "https://evil", "://"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q reached the message: %q", bad, got)
		}
	}
	if !strings.Contains(got, "channel") || !strings.Contains(got, "evil.example") {
		t.Errorf("the text itself is gone: %q", got)
	}
}

// TestSecretsMaskedBeforeEscaping: a secret holding a character escaping
// changes (&, <, @, ://) is masked before it is escaped: escaped first, it
// no longer matches the masker and arrives, spelled a little differently.
func TestSecretsMaskedBeforeEscaping(t *testing.T) {
	m := mask.NewMasker()
	m.Add("pa&ss<w0rd@db-5ecr3t")
	m.Add("postgres://admin:hunter2-5ecr3t@db")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		got = body.Text
	}))
	defer srv.Close()
	hook := &Webhook{URL: srv.URL, Client: srv.Client(), Mask: m.String}
	msg := Message{Title: "Arena drift", Lines: []string{"connect with pa&ss<w0rd@db-5ecr3t failed", "dsn postgres://admin:hunter2-5ecr3t@db"}}
	if err := hook.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "5ecr3t") {
		t.Errorf("a secret reached the webhook: %q", got)
	}
}
