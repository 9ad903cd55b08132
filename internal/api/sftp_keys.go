package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/crypto/ssh"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// SFTPKeyBody is an SSH public key authorised for the sFTP server.
type SFTPKeyBody struct {
	ID          string    `json:"id" example:"ssh_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint" doc:"SHA256, as ssh-keygen -l shows it"`
	PublicKey   string    `json:"public_key"`
	CreatedAt   time.Time `json:"created_at"`
}

func sftpKeyBody(k sqldb.SFTPKey) SFTPKeyBody {
	return SFTPKeyBody{ID: id.Format(id.SFTPKey, k.ID), Name: k.Name, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey, CreatedAt: k.CreatedAt}
}

type createSFTPKeyInput struct {
	Body struct {
		Name      string `json:"name,omitempty" maxLength:"200"`
		PublicKey string `json:"public_key" minLength:"1" maxLength:"16384" doc:"one line of authorized_keys, e.g. ssh-ed25519 AAAA… pos@store"`
	}
}

type sftpKeyOutput struct{ Body SFTPKeyBody }

type sftpKeysOutput struct {
	Body struct {
		Data []SFTPKeyBody `json:"data"`
	}
}

type sftpKeyIDInput struct {
	ID string `path:"id" doc:"sFTP key id, ssh_…"`
}

func (s *server) sftpKeyRoutes() {
	tags := []string{"Imports"}
	huma.Register(s.api, huma.Operation{OperationID: "create-sftp-key", Method: http.MethodPost, Path: "/v1/sftp_keys",
		Summary: "Authorise an SSH key for sFTP", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "The key then logs in to the embedded sFTP server (omo serve --sftp-addr) with the tenant id (ten_…) as user name. " +
			"An API key with imports:write works as a password too."}, s.createSFTPKey)
	huma.Register(s.api, huma.Operation{OperationID: "list-sftp-keys", Method: http.MethodGet, Path: "/v1/sftp_keys",
		Summary: "List authorised SSH keys", Tags: tags}, s.listSFTPKeys)
	huma.Register(s.api, huma.Operation{OperationID: "delete-sftp-key", Method: http.MethodDelete, Path: "/v1/sftp_keys/{id}",
		Summary: "Remove an authorised SSH key", Tags: tags, DefaultStatus: http.StatusNoContent}, s.deleteSFTPKey)
}

func (s *server) createSFTPKey(ctx context.Context, in *createSFTPKeyInput) (*sftpKeyOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(in.Body.PublicKey)))
	if err != nil {
		return nil, s.problem(ctx, apperr.Field("body.public_key", "not an SSH public key in authorized_keys form: "+err.Error(), nil))
	}
	name := in.Body.Name
	if name == "" {
		name = comment
	}
	k, err := s.db.CreateSFTPKey(ctx, sqldb.SFTPKey{TenantID: p.TenantID, Name: name, Fingerprint: ssh.FingerprintSHA256(pub),
		PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &sftpKeyOutput{Body: sftpKeyBody(k)}, nil
}

func (s *server) listSFTPKeys(ctx context.Context, _ *struct{}) (*sftpKeysOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ks, err := s.db.FindSFTPKeys(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &sftpKeysOutput{}
	out.Body.Data = []SFTPKeyBody{}
	for _, k := range ks {
		out.Body.Data = append(out.Body.Data, sftpKeyBody(k))
	}
	return out, nil
}

func (s *server) deleteSFTPKey(ctx context.Context, in *sftpKeyIDInput) (*struct{}, error) {
	p, kid, err := principalWithID(ctx, auth.ScopeImportsWrite, id.SFTPKey, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if err := s.db.DeleteSFTPKey(ctx, p.TenantID, kid); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}
