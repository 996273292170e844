package server

import "github.com/parley-im/parley/internal/stanza"

type stanzaElement = stanza.Element
