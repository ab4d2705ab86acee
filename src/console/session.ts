/** Who is signed in, and what the role lets them do (what a READER cannot do is not offered). */
export interface Session {
  token: string;
  tokenName: string;
  role: 'READER' | 'OPERATOR' | 'ADMIN';
  canOperate: boolean;
}

export const session = (token: string, viewer: { tokenName: string; role: Session['role'] }): Session => ({
  token,
  ...viewer,
  canOperate: viewer.role !== 'READER',
});
