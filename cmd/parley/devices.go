package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

// devicesTimeout bounds the device commands, login included.
const devicesTimeout = 30 * time.Second

func newDevicesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List or unlink the devices linked to your account",
		Long: `Devices linked by QR code (parley pair, the web client) log in with
their own credential, never the password. "parley devices list" shows them;
"parley devices revoke ID" unlinks one: the server disconnects it at once
and refuses its credential from then on. Only a login with the password may
revoke (a linked device may list).`,
		Example: `  parley devices list --jid alice@localhost --insecure
  parley devices revoke --jid alice@localhost --insecure dev-3f9a2b1c4d5e`,
		Args: exactArgs(0, "a subcommand: list or revoke"),
	}
	cmd.AddCommand(newDevicesListCmd(a), newDevicesRevokeCmd(a))
	return cmd
}

func newDevicesListCmd(a *app) *cobra.Command {
	var lf loginFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the devices linked to your account",
		Long: `Log in and print the account's linked devices, one a line: id, name,
when it was linked, its last login, and "online" when it is connected now.

` + loginHelp,
		Example: `  export PARLEY_PASSWORD=pw-alice
  parley devices list --jid alice@localhost --insecure`,
		Args: exactArgs(0, "no argument"),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), devicesTimeout)
			defer cancel()
			c, _, err := lf.login(ctx, cmd, a, false)
			if err != nil {
				return err
			}
			defer c.Close()
			devs, err := c.Devices(ctx)
			if err != nil {
				return err
			}
			printDevices(a.stdout, devs)
			return nil
		}),
	}
	lf.bind(cmd.Flags())
	return cmd
}

// printDevices writes the device table.
func printDevices(w io.Writer, devs []client.Device) {
	if len(devs) == 0 {
		fmt.Fprintln(w, "no linked devices")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tLINKED\tLAST LOGIN\tSTATUS")
	for _, d := range devs {
		last, status := "never", ""
		if !d.LastSeen.IsZero() {
			last = d.LastSeen.Local().Format("2006-01-02 15:04")
		}
		if d.Online {
			status = "online"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Created.Local().Format("2006-01-02 15:04"), last, status)
	}
	_ = tw.Flush()
}

func newDevicesRevokeCmd(a *app) *cobra.Command {
	var lf loginFlags
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Unlink a device: it is disconnected at once and cannot log in again",
		Long: `Log in with the password and unlink the device ID (from "parley devices
list"). The server disconnects the device at once and refuses its
credential from then on; link it again with a new QR code.

` + loginHelp,
		Example: `  parley devices revoke --jid alice@localhost --insecure dev-3f9a2b1c4d5e`,
		Args:    exactArgs(1, "the device's id (see parley devices list)"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), devicesTimeout)
			defer cancel()
			c, _, err := lf.login(ctx, cmd, a, false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.RevokeDevice(ctx, args[0]); err != nil {
				return fmt.Errorf("revoking %s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "revoked %s\n", args[0])
			return nil
		}),
	}
	lf.bind(cmd.Flags())
	return cmd
}

func newLinkCmd(a *app) *cobra.Command {
	var lf loginFlags
	var name, imagePath string
	cmd := &cobra.Command{
		Use:   "link PAYLOAD | link --image FILE",
		Short: "Link a new device by the code it shows (the QR code's text)",
		Long: `Confirm, from this logged-in account, the pairing of a new device (the web
client, or "parley pair" in another terminal). The new device shows a QR
code; PAYLOAD is its text, "parley-link:1:<ref>:<key>" (scan it with any
QR reader and paste it; "-" reads it from standard input). The server
creates the device and hands its credential, encrypted to the new device's
key, to the new device only. The code changes every 20 seconds: use the
one shown now.

--image FILE reads the code from a picture of it instead (PNG, JPEG or
GIF): a screenshot of the web client's QR code, say.

Only a login with the password may link devices (not a linked device), and
an account has at most the server's max_linked_devices (default 4).

` + loginHelp,
		Example: `  parley link --jid alice@localhost --insecure --name "laptop browser" \
    'parley-link:1:q2Xo1hT6bC8jW4mN0aR5sA:3p6...'

  # From a screenshot of the web client's QR code
  parley link --jid alice@localhost --insecure --image qr.png

  # From a QR reader's output
  zbarimg -q --raw code.png | parley link --jid alice@localhost --insecure -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if imagePath != "" && len(args) > 0 {
				return usagef("give either PAYLOAD or --image FILE, not both")
			}
			if imagePath != "" {
				return nil
			}
			return exactArgs(1, "the payload the new device shows (parley-link:1:...), or --image FILE")(cmd, args)
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			payload, err := linkPayload(a, args, imagePath)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), devicesTimeout)
			defer cancel()
			c, _, err := lf.login(ctx, cmd, a, false)
			if err != nil {
				return err
			}
			defer c.Close()
			d, err := c.Link(ctx, payload, name)
			if err != nil {
				return fmt.Errorf("linking: %w", err)
			}
			fmt.Fprintf(a.stdout, "linked %s (%s)\n", d.ID, d.Name)
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "linked device", "what to call the new device in the device list")
	cmd.Flags().StringVar(&imagePath, "image", "", "read the code from this picture of the QR code (PNG, JPEG or GIF) instead of PAYLOAD")
	lf.bind(cmd.Flags())
	return cmd
}

// linkPayload is the code to link: read from the picture at imagePath, or
// the PAYLOAD argument.
func linkPayload(a *app, args []string, imagePath string) (string, error) {
	if imagePath == "" {
		return readPayload(a, args[0])
	}
	text, err := decodeQRImage(imagePath)
	if err != nil {
		return "", usagef("--image: %v", err)
	}
	return strings.TrimSpace(text), nil
}

// readPayload returns the payload argument, or the first line of standard
// input for "-".
func readPayload(a *app, arg string) (string, error) {
	if arg != "-" {
		return strings.TrimSpace(arg), nil
	}
	b, err := io.ReadAll(io.LimitReader(a.stdin, 4096))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if line == "" {
		return "", usagef("no payload on standard input")
	}
	return strings.TrimSpace(line), nil
}
