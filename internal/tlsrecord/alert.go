package tlsrecord

import (
	"errors"
	"strconv"
)

// Alert is a TLS alert description (RFC 8446, 6).
type Alert uint8

// The alerts this package sends or treats specially.
const (
	AlertCloseNotify       Alert = 0
	AlertUnexpectedMessage Alert = 10
	AlertBadRecordMAC      Alert = 20
	AlertRecordOverflow    Alert = 22
	AlertIllegalParameter  Alert = 47
	AlertDecodeError       Alert = 50
	AlertInternalError     Alert = 80
	AlertUserCanceled      Alert = 90
)

func (a Alert) String() string {
	switch a {
	case AlertCloseNotify:
		return "close_notify"
	case AlertUnexpectedMessage:
		return "unexpected_message"
	case AlertBadRecordMAC:
		return "bad_record_mac"
	case AlertRecordOverflow:
		return "record_overflow"
	case AlertIllegalParameter:
		return "illegal_parameter"
	case AlertDecodeError:
		return "decode_error"
	case AlertInternalError:
		return "internal_error"
	case AlertUserCanceled:
		return "user_canceled"
	}
	return "alert " + strconv.Itoa(int(a))
}

// AlertError ends a connection: either this side found the peer's records
// wrong (Received false: Alert is sent when the connection is closed) or
// the peer sent a fatal alert (Received true: nothing more is sent).
type AlertError struct {
	Alert    Alert
	Received bool
	Reason   string // what was wrong, for logs (never data or secrets)
}

func (e *AlertError) Error() string {
	if e.Received {
		return "tlsrecord: peer sent alert " + e.Alert.String()
	}
	return "tlsrecord: " + e.Reason + " (alert " + e.Alert.String() + ")"
}

func fail(a Alert, reason string) *AlertError { return &AlertError{Alert: a, Reason: reason} }

// ErrClosed is returned by Write once the connection is closed for
// writing, or after it failed.
var ErrClosed = errors.New("tlsrecord: connection closed or failed")
