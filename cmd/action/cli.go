package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
)

// commands are the CLI's commands, in the order help lists them.
var commands = [][2]string{
	{"plan", "plan the deployment and save it in .promptarena/deploy.plan"},
	{"apply", "apply the saved plan, after proving it still holds"},
	{"status", "show what is deployed"},
	{"refresh", "check for drift and record the deployed state"},
	{"destroy", "tear the environment down (needs --confirm-destroy <environment>)"},
	{"targets", "list the repository's deploy targets (arena files and their environments)"},
	{"demo", "run the whole journey on the bundled example, with a GitHub emulator"},
}

// actionCommands are the GitHub Action's commands the CLI cannot run, and
// why: refused at once, before a confirmation is asked for that could not
// be used.
var actionCommands = map[string]string{
	"auto":     "the CLI is told its command (arena-deploy plan)",
	"rollback": "the pack it restores is taken from the repository's history on GitHub and proven by the state branch; run it by workflow_dispatch (examples/rollback.yml)",
	"unlock":   "the CLI's lock (.promptarena/deploy.lock) is a file lock, freed when the process holding it exits; unlock frees the state branch's lock of a workflow run",
	"adopt":    "the CLI's local state file has no provenance to adopt; adopt trusts a state branch's state that no trusted run proves",
	"preview":  "a preview deploys a pull request's pack to an environment of its own on GitHub (examples/preview.yml)",
}

// errHelp is a request for help: printed, exit 0.
var errHelp = errors.New("help requested")

// errVersion is a request for the version: printed, exit 0.
var errVersion = errors.New("version requested")

// cliOptions are the CLI's own flags, beside the inputs.
type cliOptions struct {
	json bool // one JSON object on stdout; the log goes to stderr
}

// workflowOnly are the inputs the CLI has no use for, and why: it keeps
// plans and state in the project (.promptarena/), posts nothing to GitHub
// and is told its command. --help leaves them out, and giving one is a
// usage error that says why.
var workflowOnly = map[string]string{
	"command":                   "the command is the first argument (arena-deploy plan)",
	"comment":                   "the CLI posts no pull request comment",
	"drift-issue":               "the CLI opens no issue; refresh --fail-on-drift exits 1 on drift",
	"create-deployment":         "the CLI records no GitHub Deployment",
	"retention-days":            "the CLI keeps its plan in .promptarena/deploy.plan, not in an artifact",
	"state-backend":             "the CLI keeps the state in a local file (--state-path)",
	"state-branch":              "the CLI keeps the state in a local file (--state-path)",
	"allow-pull-request-target": "the CLI is not triggered by pull request events",
	"adapter-oidc":              "the CLI's adapter gets your environment as it is",
	"state-token":               "the CLI keeps the state in a local file (--state-path)",
	"confirm-rollback":          "rollback is a command of the GitHub Action",
	"rollback-to":               "rollback is a command of the GitHub Action",
	"rollback-reason":           "rollback is a command of the GitHub Action",
	"confirm-unlock":            "unlock is a command of the GitHub Action",
	"force-unlock":              "unlock is a command of the GitHub Action",
	"confirm-adopt":             "adopt is a command of the GitHub Action",
	"adopt-reason":              "adopt is a command of the GitHub Action",
	"preview-environment":       "preview is a command of the GitHub Action",
}

// boolInputs are the true/false inputs: flags without a value on the CLI
// (--fail-on-drift; --fail-on-drift=false to turn one off).
var boolInputs = map[string]bool{
	"comment": true, "drift-issue": true, "fail-on-drift": true, "allow-adapter-change": true, "adapter-allow-unverified": true,
	"allow-pull-request-target": true, "create-deployment": true, "adapter-oidc": true, "all-targets": true,
	"force-unlock": true,
}

// cliFlag is an input given as a flag: its value, and whether it was given
// (--state-path= on purpose is not the default).
type cliFlag struct {
	name  string
	value string
	set   bool
	bool  bool
}

func (f *cliFlag) String() string   { return f.value }
func (f *cliFlag) IsBoolFlag() bool { return f.bool }
func (f *cliFlag) Set(v string) error {
	if f.bool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("--%s is true or false, not %q (alone, --%s means true)", f.name, v, f.name)
		}
		v = strconv.FormatBool(b)
	}
	f.value, f.set = v, true
	return nil
}

// cliInputs parses the CLI: a command, and flags named as the inputs,
// before or after it. Help and version are errHelp and errVersion, already
// printed to stdout; anything wrong is errUsage, already explained on
// stderr.
func cliInputs(args []string, stdout, stderr io.Writer) (inputs, cliOptions, error) {
	var opt cliOptions
	var command string
	usage := func(format string, a ...any) (inputs, cliOptions, error) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintln(stderr, "arena-deploy: "+msg)
		if wantsJSON(args) {
			// A script asked for one object on stdout: it gets one, with
			// the mistake, even when the flags did not parse.
			c := &cliReporter{out: stdout, asJSON: true, errors: []string{msg}}
			c.finish(command, exitUsage)
		}
		return nil, opt, errUsage
	}
	fs := flag.NewFlagSet("arena-deploy", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, help by printHelp
	flags := map[string]*cliFlag{}
	for _, n := range inputNames {
		f := &cliFlag{name: n, bool: boolInputs[n]}
		flags[n] = f
		fs.Var(f, n, "")
	}
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	version := fs.Bool("version", false, "")
	fs.BoolVar(&opt.json, "json", false, "")
	// Flags stop at the first argument that is not one: parse again after
	// it, so flags may come before and after the command.
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return usage("%s. Run arena-deploy --help for the flags.", flagError(err))
		}
		if fs.NArg() == 0 {
			break
		}
		arg := fs.Arg(0)
		switch before := argBefore(args, arg); {
		case command == "":
			command = arg
		case isBoolValue(arg) && flags[strings.TrimLeft(before, "-")] != nil && flags[strings.TrimLeft(before, "-")].bool:
			return usage("%s takes no value: write %s alone for true, or %s=%s.", before, before, before, arg)
		case knownCommand(arg) || actionCommands[arg] != "":
			return usage("two commands, %s and %s: give one.", command, arg)
		default:
			return usage("unexpected argument %q: %s takes flags only; the project is --working-directory %s, the environment --environment %s.", arg, command, arg, arg)
		}
		rest = fs.Args()[1:]
	}
	switch {
	case *help || command == "help":
		printHelp(stdout)
		return nil, opt, errHelp
	case *version || command == "version":
		printVersion(stdout)
		return nil, opt, errVersion
	case command == "":
		return usage("no command given: arena-deploy <%s> [flags]. Run arena-deploy --help for the commands and flags.", strings.ReplaceAll(commandList(), ", ", "|"))
	case actionCommands[command] != "":
		return usage("%s is a command of the GitHub Action, not of the CLI: %s.", command, actionCommands[command])
	case !knownCommand(command):
		return usage("unknown command %q; the commands are %s. Run arena-deploy --help.", command, commandList())
	}
	in := inputs{"command": command}
	for _, n := range inputNames {
		f := flags[n]
		if !f.set {
			continue
		}
		if why, ok := workflowOnly[n]; ok {
			return usage("--%s is an input of the GitHub Action, not a flag of the CLI: %s.", n, why)
		}
		in[n] = f.value
		if f.value == "" {
			in[n] = emptyInput // --state-path= means "none", not the default
		}
	}
	return in, opt, nil
}

// wantsJSON says whether args ask for --json (in any form Go's flags
// take), for a usage error found before the flags are parsed.
func wantsJSON(args []string) bool {
	on := false
	for _, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		on = true
		if hasVal {
			on, _ = strconv.ParseBool(val)
		}
	}
	return on
}

// flagError is Go's flag error in the CLI's words.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag --" + strings.TrimLeft(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "--" + strings.TrimLeft(name, "-") + " needs a value"
	}
	// "invalid value "x" for flag -fail-on-drift: <our Set's message>"
	if _, detail, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "invalid ") {
		return detail
	}
	return msg
}

func isBoolValue(s string) bool {
	_, err := strconv.ParseBool(s)
	return err == nil
}

// argBefore is the argument before arg's first occurrence in args.
func argBefore(args []string, arg string) string {
	for i := 1; i < len(args); i++ {
		if args[i] == arg {
			return args[i-1]
		}
	}
	return ""
}

func knownCommand(c string) bool {
	for _, k := range commands {
		if k[0] == c {
			return true
		}
	}
	return false
}

func commandList() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c[0]
	}
	return strings.Join(names, ", ")
}

// printHelp lists the commands and the flags the CLI uses, with
// action.yml's own description of each input (inputDocs is generated from
// it); the action's workflow-only inputs are left out.
func printHelp(w io.Writer) {
	fmt.Fprintf(w, "arena-deploy %s: plan PromptKit arena deployments, apply exactly the reviewed plan.\n\n", actionVersion())
	fmt.Fprintln(w, "usage: arena-deploy <command> [flags]   (flags may come before or after the command)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c[0], c[1])
	}
	fmt.Fprintln(w, "\nflags (paths are relative to --working-directory; plans and state stay in its .promptarena/):")
	for _, n := range cliFlagNames() {
		flagName := "--" + n
		if !boolInputs[n] {
			flagName += " <value>"
		}
		def := ""
		if d := inputDefaults[n]; d != "" && !boolInputs[n] {
			def = fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "  %-30s %s%s\n", flagName, flagDoc(n), def)
	}
	fmt.Fprintf(w, "  %-30s %s\n", "--json", "print one JSON object (outputs, warnings, errors) on stdout; the log goes to stderr")
	fmt.Fprintf(w, "  %-30s %s\n", "--version", "print the version")
	fmt.Fprintln(w, "\ntrue/false flags take no value: --fail-on-drift (--fail-on-drift=false turns one off).")
	fmt.Fprintln(w, "exit codes: 0 success; 1 the run failed (failure-reason says why); 2 a mistake in the command, its flags or")
	fmt.Fprintln(w, "the project's paths (an unknown flag, a missing --working-directory or --config, --confirm-destroy not given).")
	fmt.Fprintln(w, "More: arena-deploy-action's docs/cli.md (the CLI), docs/reference.md (inputs, outputs) and docs/troubleshooting.md (each failure-reason).")
}

// cliDocs are the flags whose action.yml description speaks of the
// workflow: the CLI's own words for them.
var cliDocs = map[string]string{
	"github-token":      "Token for adapter-install's release lookups (default $GITHUB_TOKEN; public releases need none). The CLI reads and writes nothing else on GitHub.",
	"working-directory": "The arena project's directory, relative to the current directory (every path must stay inside the current directory).",
	"on-missing-plan":   "apply with no saved plan in .promptarena/deploy.plan: fail, or plan-and-apply.",
	"state-path":        "State file, relative to --working-directory. Use one per environment.",
	"lock-timeout":      "How long to wait for the project's deploy lock (.promptarena/deploy.lock), held while another run deploys (e.g. 30s); 0s fails at once.",
	"fail-on":           "Fail the plan (exit 1) if it contains these actions, comma-separated: create, update, delete, drift.",
	"fail-on-drift":     "With refresh, fail (exit 1) when any resource drifted.",
}

// flagDoc is the help of the flag n.
func flagDoc(n string) string {
	if d, ok := cliDocs[n]; ok {
		return d
	}
	return inputDocs[n]
}

// cliFlagNames are the inputs the CLI takes as flags, sorted.
func cliFlagNames() []string {
	var names []string
	for _, n := range inputNames {
		if _, skip := workflowOnly[n]; !skip {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "arena-deploy %s (%s, %s/%s)\n", actionVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// cliReporter prints for a person at a terminal (or, with --json, one
// object for a machine): the log and the report without their HTML on
// stdout, warnings and errors on stderr, colours on a terminal.
type cliReporter struct {
	w        io.Writer // the log and the report
	errw     io.Writer // warnings and errors
	out      io.Writer // stdout, for --json
	asJSON   bool
	color    bool
	errColor bool
	outputs  [][2]string
	warnings []string
	errors   []string
}

func newCLIReporter(stdout, stderr io.Writer, opt cliOptions) *cliReporter {
	c := &cliReporter{w: stdout, errw: stderr, out: stdout, asJSON: opt.json, color: isTerminal(stdout), errColor: isTerminal(stderr)}
	if opt.json {
		c.w, c.color = stderr, c.errColor
	}
	return c
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (c *cliReporter) paint(code, s string) string { return paint(c.color, code, s) }

func paint(color bool, code, s string) string {
	if !color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c *cliReporter) Infof(f string, a ...any) { fmt.Fprintf(c.w, f+"\n", a...) }
func (c *cliReporter) Warningf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	c.warnings = append(c.warnings, msg)
	fmt.Fprintln(c.errw, paint(c.errColor, "33", "warning:")+" "+msg)
}
func (c *cliReporter) Errorf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	c.errors = append(c.errors, msg)
	fmt.Fprintln(c.errw, paint(c.errColor, "1;31", "error:")+" "+msg)
}
func (c *cliReporter) Group(t string) { fmt.Fprintln(c.w, c.paint("1", "── "+t)) }
func (c *cliReporter) EndGroup()      {}
func (c *cliReporter) AddMask(string) {}
func (c *cliReporter) AddStepSummary(md string) {
	fmt.Fprintf(c.w, "\n%s\n", terminalReport(md, c.color))
}
func (c *cliReporter) SetOutput(k, v string) {
	for i := range c.outputs {
		if c.outputs[i][0] == k {
			c.outputs[i][1] = v
			return
		}
	}
	c.outputs = append(c.outputs, [2]string{k, v})
}

// finish prints the outputs: as lines, or as the --json object.
func (c *cliReporter) finish(command string, code int) {
	if c.asJSON {
		outs := map[string]string{}
		for _, kv := range c.outputs {
			outs[kv[0]] = kv[1]
		}
		b, _ := json.MarshalIndent(struct {
			Command  string            `json:"command"`
			ExitCode int               `json:"exit_code"`
			Outputs  map[string]string `json:"outputs"`
			Warnings []string          `json:"warnings"`
			Errors   []string          `json:"errors"`
		}{command, code, outs, nonNil(c.warnings), nonNil(c.errors)}, "", "  ")
		fmt.Fprintln(c.out, string(b))
		return
	}
	if len(c.outputs) == 0 {
		return
	}
	fmt.Fprintln(c.w, c.paint("1", "outputs:"))
	for _, kv := range c.outputs {
		fmt.Fprintf(c.w, "  %s=%s\n", kv[0], kv[1])
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->\n?`)
	summaryTag  = regexp.MustCompile(`<details[^>]*><summary>(.*?)</summary>`)
	htmlTag     = regexp.MustCompile(`</?(details|summary|sub|code|br)[^>]*>`)
	// mdEscape is a backslash escape comment.Escape adds.
	mdEscape = regexp.MustCompile(`\\([\\|*_~\[\]!])`)
	// mdBold and mdCode are the report's own emphasis and code spans
	// (escaped text has neither: its * and ` are escaped).
	mdBold = regexp.MustCompile(`\*\*[^*\n]+?\*\*`)
	mdCode = regexp.MustCompile("`([^`\n]+)`")
	// alertLine is GitHub's alert marker ("> [!WARNING]").
	alertLine = regexp.MustCompile(`^> \[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]$`)
	// fenceLine opens or closes a fenced block: its backticks, its language.
	fenceLine = regexp.MustCompile("^(`{3,})([a-z]*)$")
)

// boldOn and boldOff mark the report's emphasis while its text is made
// plain: private-use characters, which Visible leaves be; any the text
// held are dropped first.
const boldOn, boldOff = "\ue000", "\ue001"

// terminalText is a report as a terminal shows it: no hidden marker, folds
// as their titles, no HTML tags or entities; the Markdown tables stay (they
// read fine). A fenced block is shown indented, as it is (its text is
// literal), without its fences.
func terminalText(md string) string { return terminalReport(md, false) }

// terminalReport is terminalText, with emphasis in bold and the pack diff
// coloured when color is set (a terminal).
func terminalReport(md string, color bool) string {
	md = htmlComment.ReplaceAllString(md, "")
	md = summaryTag.ReplaceAllString(md, "▸ $1")
	// A line break in a cell (two links, a detail's lines) is a space: not
	// "[Console](…)[Logs](…)".
	md = strings.ReplaceAll(md, "<br>", " ")
	bold := strings.NewReplacer(boldOn, "", boldOff, "")
	if color {
		bold = strings.NewReplacer(boldOn, "\x1b[1m", boldOff, "\x1b[0m")
	}
	var out []string
	fence, lang := "", ""
	for _, l := range strings.Split(md, "\n") {
		if m := fenceLine.FindStringSubmatch(l); m != nil && (fence == "" || l == fence) {
			if fence == "" {
				fence, lang = m[1], m[2]
			} else {
				fence = ""
			}
			continue
		}
		if fence != "" {
			if lang == "diff" && color {
				l = colorDiffLine(l)
			}
			out = append(out, "  "+l)
			continue
		}
		// Emphasis and code spans are found before the text is unescaped
		// (so only the report's own are), and marked with private-use
		// characters until the text is made plain.
		if alertLine.MatchString(l) {
			continue // GitHub's alert marker: the quoted lines under it say it
		}
		l = htmlTag.ReplaceAllString(strings.NewReplacer(boldOn, "", boldOff, "").Replace(l), "")
		l = mdBold.ReplaceAllStringFunc(l, func(b string) string { return boldOn + b[2:len(b)-2] + boldOff })
		l = plainText(mdCode.ReplaceAllString(l, "$1"))
		l = bold.Replace(l)
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// colorDiffLine colours a unified diff's line for a terminal: additions
// green, removals red, hunk headers cyan.
func colorDiffLine(l string) string {
	switch {
	case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		return paint(true, "1", l)
	case strings.HasPrefix(l, "+"):
		return paint(true, "32", l)
	case strings.HasPrefix(l, "-"):
		return paint(true, "31", l)
	case strings.HasPrefix(l, "@@"):
		return paint(true, "36", l)
	}
	return l
}

// plainText undoes what makes a report's Markdown inert on GitHub and
// means nothing at a terminal: HTML entities (&lt;), the backslash escapes
// and the zero-width characters comment.Escape inserts (so a copied
// file:// link works). Whatever an entity decodes to that a terminal would
// act on (ESC, other controls, bidi overrides) is shown as <U+XXXX>, as
// everywhere else.
func plainText(s string) string {
	if !strings.ContainsAny(s, "&\\\u200b\u200d") {
		return s
	}
	s = mdEscape.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("\u200b", "", "\u200d", "").Replace(s)
	return comment.Visible(html.UnescapeString(s))
}

var _ report.Sink = (*cliReporter)(nil)
