/** Deactivating an account takes the user out of every room they are in or invited to. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createUser, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe('POST /_matrix/client/v3/account/deactivate', () => {
  it('leaves the joined rooms and rejects the pending invites', async () => {
    const alice = await createUser(server, 'alice');
    const bob = await createUser(server, 'bob');
    const joined = await api(server, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat' },
    });
    const invited = await api(server, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { invite: [bob.userId] },
    });
    const joinedRoom = joined.body.room_id as string;
    const invitedRoom = invited.body.room_id as string;
    expect(
      (
        await api(server, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(joinedRoom)}`, {
          token: bob.accessToken,
          body: {},
        })
      ).status,
    ).toBe(200);

    const auth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: bob.userId } };
    const first = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: bob.accessToken,
      body: {},
    });
    const done = await api(server, 'POST', '/_matrix/client/v3/account/deactivate', {
      token: bob.accessToken,
      body: { auth: { ...auth, password: bob.password, session: first.body.session } },
    });
    expect(done.status).toBe(200);

    for (const roomId of [joinedRoom, invitedRoom]) {
      const member = await api(
        server,
        'GET',
        `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(bob.userId)}`,
        { token: alice.accessToken },
      );
      expect(member.status).toBe(200);
      expect(member.body.membership).toBe('leave');
    }
  });
});
