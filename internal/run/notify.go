package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/notify"
)

// NotifyOptions say where and when to notify (notify-webhook, notify-on).
type NotifyOptions struct {
	Webhook string   // empty: no notifications
	On      []string // kinds (notify.Kinds)
}

// notify sends m to the webhook when its kind is asked for; a failure is a
// warning, never the run's result.
func (s *session) notify(ctx context.Context, m notify.Message) {
	n := s.o.Notify
	if n.Webhook == "" || !slices.Contains(n.On, m.Kind) {
		return
	}
	if g := s.d.GH; g != nil && m.Link == "" && g.RunID != 0 {
		m.Link, m.LinkLabel = g.RunURL(), "run "+itoa64(g.RunID)
	}
	w := &notify.Webhook{URL: n.Webhook, Client: s.d.BlobClient, Mask: s.masker.String}
	if err := w.Send(ctx, m); err != nil {
		s.d.Report.Warningf("No notification was sent: %s", err)
		return
	}
	s.d.Report.Infof("Notified the webhook (%s)", m.Kind)
}

// where names the repository and the commit for a message.
func (s *session) where() string {
	g := s.d.GH
	if g == nil {
		return s.target.String()
	}
	parts := []string{g.Owner + "/" + g.Repo, s.target.String()}
	if g.SHA != "" {
		parts = append(parts, "commit "+short(g.SHA, 7))
	}
	return strings.Join(parts, " · ")
}

// notifyApplyFailed tells the webhook an apply failed (a superseded one
// deployed nothing on purpose, and is not news).
func (s *session) notifyApplyFailed(ctx context.Context, res *ApplyResult, err error) {
	reason, hint := Classify(err)
	if reason == ReasonSuperseded {
		return
	}
	lines := []string{s.where()}
	if res.PRNumber != 0 {
		lines[0] += fmt.Sprintf(" · pull request #%d", res.PRNumber)
	}
	if res.Applied {
		lines = append(lines, "The deploy happened; what failed came after it.")
	}
	msg, _, _ := strings.Cut(s.masker.String(errorText(err)), "\n")
	lines = append(lines, msg, hint)
	s.notify(ctx, notify.Message{Kind: notify.ApplyFailed, Icon: ":x:",
		Title: "Arena apply to " + notify.Escape(s.env) + " failed (" + reason + ")", Lines: lines})
}

// notifyDrift tells the webhook what refresh found drifted.
func (s *session) notifyDrift(ctx context.Context, res *StatusResult) {
	if len(res.Drifted) == 0 {
		return
	}
	lines := []string{s.where()}
	for i, d := range res.Drifted {
		if i == 10 {
			lines = append(lines, fmt.Sprintf("… and %d more", len(res.Drifted)-10))
			break
		}
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %s/%s %s", d.Status, d.Type, d.Name, d.Detail)))
	}
	s.notify(ctx, notify.Message{Kind: notify.Drift, Icon: ":warning:",
		Title: fmt.Sprintf("Arena drift in %s: %d resources", notify.Escape(s.env), len(res.Drifted)), Lines: lines})
}
