// Package sftp is OMO's embedded sFTP server for nightly file drops. A
// tenant logs in with an API key holding imports:write (as the password) or
// an authorised SSH public key, user name = its tenant id, and sees only its
// own folders:
//
//	/inbox/customers/, /inbox/transactions/, /inbox/events/   drop files here
//	/archive/                                                 every file dropped, as stored
//	/outbox/                                                  each file's result and rejections
//
// A file closed in an inbox folder becomes an import with the folder's
// mapping: the saved mapping named sftp-<kind>, which uploading a
// .mapping.json into the folder sets. The upload succeeds only once the file
// is stored and its import queued; a failed close means nothing was taken.
package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	sftplib "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// Server is the sFTP server of one process.
type Server struct {
	db     *sqldb.DB
	log    *slog.Logger
	config *ssh.ServerConfig
	ln     net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// New builds a server with the installation's host key (created on first use).
func New(ctx context.Context, db *sqldb.DB, log *slog.Logger) (*Server, error) {
	keyPEM, err := db.SFTPHostKey(ctx, newHostKey)
	if err != nil {
		return nil, fmt.Errorf("sftp: host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("sftp: host key: %w", err)
	}
	s := &Server{db: db, log: log, conns: map[net.Conn]struct{}{}}
	s.config = &ssh.ServerConfig{PasswordCallback: s.password, PublicKeyCallback: s.publicKey, MaxAuthTries: 6}
	s.config.AddHostKey(signer)
	return s, nil
}

func newHostKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "omo sftp host key")
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(block)), nil
}

// tenantOf reads the user name: the tenant's id (ten_…).
func tenantOf(conn ssh.ConnMetadata) (string, error) {
	tid, err := id.Parse(id.Tenant, conn.User())
	if err != nil {
		return "", errors.New("log in with your tenant id (ten_…) as the user name")
	}
	return tid, nil
}

// password accepts an API key of the tenant that may import.
func (s *Server) password(conn ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	tid, err := tenantOf(conn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := s.db.FindKeyBySecret(ctx, string(password))
	if err != nil || k.TenantID != tid {
		return nil, errors.New("not a valid API key of this tenant")
	}
	if !(auth.Principal{TenantID: k.TenantID, KeyID: k.ID, Scopes: k.Scopes}).Can(auth.ScopeImportsWrite) {
		return nil, errors.New("the API key lacks the imports:write scope")
	}
	return &ssh.Permissions{Extensions: map[string]string{"tenant": tid, "actor": "key:" + k.ID}}, nil
}

// publicKey accepts a key the tenant authorised with POST /v1/sftp_keys.
func (s *Server) publicKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	tid, err := tenantOf(conn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fp := ssh.FingerprintSHA256(key)
	ok, err := s.db.SFTPKeyAuthorized(ctx, tid, fp)
	if err != nil || !ok {
		return nil, errors.New("this public key is not authorised for the tenant")
	}
	return &ssh.Permissions{Extensions: map[string]string{"tenant": tid, "actor": "sftp-key:" + fp}}, nil
}

// Listen opens the listener; Serve then accepts on it.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--sftp-addr: %w", err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, ends open sessions and waits for them. A file still
// being uploaded is not imported: its client sees the transfer fail.
func (s *Server) Close() error {
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // for the handshake
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		s.log.Debug("sftp handshake failed", "remote", c.RemoteAddr().String(), "error", err.Error())
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	fs := &tenantFS{db: s.db, tenantID: sc.Permissions.Extensions["tenant"], actor: sc.Permissions.Extensions["actor"]}
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, requests, fs)
	}
}

// session serves the sftp subsystem and nothing else (no shell, no exec).
func (s *Server) session(ch ssh.Channel, requests <-chan *ssh.Request, fs *tenantFS) {
	defer ch.Close()
	for req := range requests {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		_ = req.Reply(ok, nil)
		if !ok {
			continue
		}
		srv := sftplib.NewRequestServer(ch, sftplib.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs})
		if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
			s.log.Debug("sftp session ended", "error", err.Error())
		}
		_ = srv.Close()
		return
	}
}
