package ghclient

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
)

type cutReader struct{ r io.Reader }

func (c cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestBufferKeepsEveryByte(t *testing.T) {
	for _, size := range []int{0, 10, bufferLimit, bufferLimit + 1, bufferLimit + 12345} {
		want := bytes.Repeat([]byte("abcdefghij"), size/10+1)[:size]
		resp := &http.Response{Body: io.NopCloser(bytes.NewReader(want))}
		if err := buffer(resp); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: %d bytes back, %v", size, len(got), err)
		}
		resp.Body.Close()
	}
}

func TestBufferSeesACutOffAnswer(t *testing.T) {
	resp := &http.Response{Body: io.NopCloser(cutReader{bytes.NewReader([]byte(`{"id": 1, "bo`))})}
	if err := buffer(resp); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
}
