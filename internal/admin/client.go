package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds Dial: connecting and the first ping.
const dialTimeout = 5 * time.Second

// Client is a connection to an admin Server. It implements Accounts.
type Client struct {
	mu     sync.Mutex // serializes calls: one request in flight per connection
	conn   net.Conn
	r      *bufio.Reader
	broken error // guarded by mu; set when a call failed mid-exchange
}

var _ Accounts = (*Client)(nil)

// Dial connects to the admin socket at path and checks that a Parley admin
// server answers there.
func Dial(path string) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	if err := c.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opPing})
	return err
}

// CreateUser implements Accounts.
func (c *Client) CreateUser(ctx context.Context, jid, password string) error {
	_, err := c.call(ctx, request{Op: opAdd, JID: jid, Password: password})
	return err
}

// DeleteUser implements Accounts.
func (c *Client) DeleteUser(ctx context.Context, jid string) error {
	_, err := c.call(ctx, request{Op: opDel, JID: jid})
	return err
}

// SetPassword implements Accounts.
func (c *Client) SetPassword(ctx context.Context, jid, password string) error {
	_, err := c.call(ctx, request{Op: opPasswd, JID: jid, Password: password})
	return err
}

// ListUsers implements Accounts.
func (c *Client) ListUsers(ctx context.Context, domain string) ([]string, error) {
	resp, err := c.call(ctx, request{Op: opList, Domain: domain})
	if err != nil {
		return nil, err
	}
	if resp.Users == nil {
		return []string{}, nil
	}
	return resp.Users, nil
}

// Backup asks the server for a consistent snapshot of its store in dir
// (an absolute path that must not exist yet).
func (c *Client) Backup(ctx context.Context, dir string) error {
	_, err := c.call(ctx, request{Op: opBackup, Dir: dir})
	return err
}

// Info asks which process serves the socket.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.call(ctx, request{Op: opInfo})
	if err != nil {
		return Info{}, err
	}
	return Info{PID: resp.PID, Version: resp.Version}, nil
}

// Upgrade asks the server for a live upgrade: it starts the new binary,
// which takes over its listeners, and answers with the new process's pid
// once that one is ready (the old one then drains and exits).
func (c *Client) Upgrade(ctx context.Context) (pid int, err error) {
	resp, err := c.call(ctx, request{Op: opUpgr})
	if err != nil {
		return 0, err
	}
	return resp.PID, nil
}

// call sends one request and reads its response. A failure of the
// exchange itself (as opposed to an error response) breaks the client.
func (c *Client) call(ctx context.Context, req request) (response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return response{}, c.broken
	}
	line, err := json.Marshal(req)
	if err != nil {
		return response{}, err
	}
	// Cancellation interrupts the exchange; ctx.Err() is set by then.
	_ = c.conn.SetDeadline(time.Time{})
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.conn.SetDeadline(time.Unix(1, 0))
		close(interrupted)
	})
	defer func() {
		if !stop() {
			<-interrupted // do not let it touch the next call's deadline
		}
	}()

	resp, err := c.exchange(append(line, '\n'))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		c.broken = fmt.Errorf("admin: connection unusable after an earlier failure: %w", err)
		_ = c.conn.Close()
		return response{}, fmt.Errorf("admin: %w", err)
	}
	if resp.Error != "" {
		return response{}, &Error{Kind: kindOf(resp.Code), Msg: resp.Error}
	}
	if !resp.OK {
		return response{}, errors.New("admin: malformed response")
	}
	return resp, nil
}

func (c *Client) exchange(line []byte) (response, error) {
	if _, err := c.conn.Write(line); err != nil {
		return response{}, err
	}
	raw, err := readLine(c.r, maxResponseBytes)
	if err != nil {
		return response{}, err
	}
	var resp response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return response{}, fmt.Errorf("malformed response: %w", err)
	}
	return resp, nil
}
