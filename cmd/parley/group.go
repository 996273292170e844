package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

// groupTimeout bounds a group command, login included.
const groupTimeout = 30 * time.Second

func newGroupCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Create groups, manage their members, show them",
		Long: `Groups have WhatsApp semantics (docs/protocol/groups.md): every member's
every device gets every message, online or not. A group is named by its
address, ID@groups.DOMAIN, or just its ID. Post to a group with
"parley send --group ID TEXT".`,
		Example: `  export PARLEY_PASSWORD=pw-alice
  parley group create --jid alice@localhost --insecure "Climbing" bob@localhost carol@localhost
  parley group info --jid alice@localhost --insecure k3v7q2m4xw6tj5ra
  parley group add --jid alice@localhost --insecure k3v7q2m4xw6tj5ra dave@localhost
  parley group remove --jid alice@localhost --insecure k3v7q2m4xw6tj5ra bob@localhost
  parley send --jid alice@localhost --insecure --group k3v7q2m4xw6tj5ra "Saturday 9am"`,
		RunE: groupRunE,
	}
	const login = "parley group %s --jid alice@localhost --insecure "
	cmd.AddCommand(
		groupSubCmd(a, "create SUBJECT [MEMBER...]", "Create a group and print its address", 1, -1, groupCreate,
			fmt.Sprintf(login, "create")+`"Climbing" bob@localhost carol@localhost`),
		groupSubCmd(a, "add GROUP MEMBER...", "Add members (admins only)", 2, -1, groupAdd,
			fmt.Sprintf(login, "add")+"k3v7q2m4xw6tj5ra dave@localhost erin@localhost"),
		groupSubCmd(a, "remove GROUP MEMBER", "Remove a member (admins only)", 2, 2, groupRemove,
			fmt.Sprintf(login, "remove")+"k3v7q2m4xw6tj5ra bob@localhost"),
		groupSubCmd(a, "leave GROUP", "Leave a group", 1, 1, groupLeave,
			fmt.Sprintf(login, "leave")+"k3v7q2m4xw6tj5ra@groups.localhost"),
		groupSubCmd(a, "info GROUP [MESSAGE-ID]", "Show a group's settings and members (one a line: JID, role, joined), or with a message id (printed by parley send --group) who has it delivered and read", 1, 2, groupInfo,
			fmt.Sprintf(login, "info")+"k3v7q2m4xw6tj5ra\n  "+fmt.Sprintf(login, "info")+"k3v7q2m4xw6tj5ra 5GQ2ZK3XKJ7NQ4TJLM2A"),
	)
	return cmd
}

// groupAction runs one group subcommand with a logged-in client.
type groupAction func(ctx context.Context, a *app, c *client.Client, args []string) error

func groupSubCmd(a *app, use, short string, minArgs, maxArgs int, act groupAction, example string) *cobra.Command {
	var lf loginFlags
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    short + ".\n\n" + loginHelp,
		Example: "  export PARLEY_PASSWORD=pw-alice\n  " + example,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < minArgs {
				return usagef("missing arguments: %s", use)
			}
			if maxArgs >= 0 && len(args) > maxArgs {
				return usagef("too many arguments: %s", use)
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), groupTimeout)
			defer cancel()
			c, _, err := lf.login(ctx, cmd, a, false)
			if err != nil {
				return err
			}
			defer c.Close()
			return act(ctx, a, c, args)
		}),
	}
	lf.bind(cmd.Flags())
	return cmd
}

// groupAddress turns a group id into its address on the account's server.
func groupAddress(c *client.Client, g string) string {
	if strings.Contains(g, "@") {
		return bareJID(g)
	}
	own := bareJID(c.JID())
	return strings.ToLower(g) + "@groups." + own[strings.IndexByte(own, '@')+1:]
}

func bareJIDs(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = bareJID(s)
	}
	return out
}

func groupCreate(ctx context.Context, a *app, c *client.Client, args []string) error {
	g, err := c.CreateGroup(ctx, args[0], bareJIDs(args[1:])...)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, g.JID)
	return nil
}

func groupAdd(ctx context.Context, _ *app, c *client.Client, args []string) error {
	return c.AddMembers(ctx, groupAddress(c, args[0]), bareJIDs(args[1:])...)
}

func groupRemove(ctx context.Context, _ *app, c *client.Client, args []string) error {
	return c.RemoveMember(ctx, groupAddress(c, args[0]), bareJID(args[1]))
}

func groupLeave(ctx context.Context, _ *app, c *client.Client, args []string) error {
	return c.LeaveGroup(ctx, groupAddress(c, args[0]))
}

func groupInfo(ctx context.Context, a *app, c *client.Client, args []string) error {
	if len(args) == 2 {
		return messageInfo(ctx, a, c, groupAddress(c, args[0]), args[1])
	}
	g, err := c.GroupInfo(ctx, groupAddress(c, args[0]))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s %q admins-only=%t max-members=%d\n", g.JID, g.Subject, g.AdminsOnly, g.MaxMembers)
	for _, m := range g.Members {
		fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", m.JID, m.Role, m.Joined.Format(time.RFC3339))
	}
	return nil
}

// messageInfo prints the ticks of a group message, then one line per
// member who has it: JID, delivered, read (or -).
func messageInfo(ctx context.Context, a *app, c *client.Client, group, id string) error {
	mi, err := c.MessageInfo(ctx, group, id)
	if err != nil {
		return err
	}
	tick := "sent"
	switch {
	case mi.DisplayedAll:
		tick = "seen by all"
	case mi.DeliveredAll:
		tick = "delivered to all"
	}
	fmt.Fprintf(a.stdout, "%s from %s: %s\n", mi.ID, mi.Sender, tick)
	for _, r := range mi.Receipts {
		read := "-"
		if !r.Displayed.IsZero() {
			read = r.Displayed.Format(time.RFC3339)
		}
		fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", r.JID, r.Delivered.Format(time.RFC3339), read)
	}
	return nil
}
