package ghemu

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
)

// spoiler holds the answer of a request whose work was done, to spoil it
// on its way back as its fault says: lost, cut off or garbled.
type spoiler struct {
	w      http.ResponseWriter
	f      *Fault
	header http.Header
	status int
	body   bytes.Buffer
}

func spoil(w http.ResponseWriter, f *Fault) *spoiler {
	return &spoiler{w: w, f: f, header: http.Header{}, status: http.StatusOK}
}

func (s *spoiler) Header() http.Header         { return s.header }
func (s *spoiler) Write(b []byte) (int, error) { return s.body.Write(b) }
func (s *spoiler) WriteHeader(code int)        { s.status = code }

// send delivers the spoiled answer.
func (s *spoiler) send() {
	switch {
	case s.f.DropAnswer:
		resetConn(s.w)
	case s.f.Truncate:
		// The headers promise the whole body; part of it arrives (none of
		// an empty one), then the connection closes.
		hj, ok := s.w.(http.Hijacker)
		if !ok {
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		body := s.body.Bytes()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", s.status, http.StatusText(s.status))
		s.header.Del("Content-Length")
		_ = s.header.Write(buf)
		fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body)+64)
		_, _ = buf.Write(body[:len(body)/2])
		_ = buf.Flush()
	case s.f.Garble:
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(s.body.Bytes())
		_ = zw.Close()
		for k, v := range s.header {
			s.w.Header()[k] = v
		}
		s.w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
		s.w.WriteHeader(s.status)
		_, _ = s.w.Write(gz.Bytes())
	}
}
