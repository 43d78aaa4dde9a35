import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPolicyFiles } from '../../functions/policyFiles';

const valid = (name: string) => ({
  name,
  scope: { subscriptionIds: ['b1f0c2d4-6e8a-4c1b-9d3f-5a7e9c2b4d60'] },
  selector: {},
  consistencyMode: 'CrashConsistent',
  schedule: { everyHours: 2 },
  retention: { count: 5 },
});

describe('RPO_POLICY_FILES', () => {
  it('loads the demo policies through a glob relative to the app folder', () => {
    const { policies, errors } = readPolicyFiles(['local/policies/*.json'], path.resolve(__dirname, '../..'));
    expect(errors).toEqual([]);
    expect(policies.map((p) => p.name)).toEqual(['gold', 'silver']);
  });

  it('reports a bad file with its path, field and rule, and still loads the others', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rpo-policies-'));
    await writeFile(path.join(dir, 'a.json'), JSON.stringify(valid('alpha')));
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ ...valid('beta'), schedule: { everyHours: 0 } }));
    await writeFile(path.join(dir, 'c.json'), '{ not json');
    await writeFile(path.join(dir, 'd.json'), JSON.stringify(valid('alpha')));
    await writeFile(path.join(dir, 'notes.txt'), 'ignored');
    const { policies, errors } = readPolicyFiles([path.join(dir, '*.json')]);
    expect(policies.map((p) => p.name)).toEqual(['alpha']);
    expect(errors.map((e) => path.basename(e.file))).toEqual(['b.json', 'c.json', 'd.json']);
    expect(errors[0]?.message).toMatch(/schedule\.everyHours: .*\[minimum\]/);
    expect(errors[1]?.message).toMatch(/JSON/);
    expect(errors[2]?.message).toMatch(/defined by another file/);
  });

  it('takes plain paths and reports a missing file', () => {
    const { policies, errors } = readPolicyFiles(['/nonexistent/rpo/policy.json']);
    expect(policies).toEqual([]);
    expect(errors[0]?.message).toMatch(/ENOENT|no such file/);
  });
});
