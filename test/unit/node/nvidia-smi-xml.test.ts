import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEntities, parseNvidiaSmiXml } from '../../../src/node/nvidia-smi-xml.js';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../fixtures/nvidia-smi', name), 'utf8');

describe('parseNvidiaSmiXml (nvidia-smi -q -x)', () => {
  it('reads every process of a realistic report: type, decoded name, MiB, N/A as null', () => {
    const gpus = parseNvidiaSmiXml(fixture('q-x-gaming.xml'));
    expect(gpus).toHaveLength(1);
    expect(gpus[0]!.utilPct).toBe(97);
    expect(gpus[0]!.processes).toEqual([
      { pid: 2211, type: 'G', name: '/usr/lib/xorg/Xorg', usedMib: 412 },
      { pid: 36528, type: 'C', name: '/usr/lib/ollama/llama-server', usedMib: 9218 },
      { pid: 51234, type: 'G', name: '/home/me/Games/Tom & Jerry <Remastered>/game.x86_64', usedMib: 6144 },
      { pid: 51300, type: 'C+G', name: "Z:\\games\\wine's game.exe", usedMib: null },
    ]);
  });

  it('reads two GPUs, an empty <processes/> and a GPU without utilization', () => {
    const xml = `<nvidia_smi_log>
      <gpu id="00000000:01:00.0"><utilization><gpu_util>N/A</gpu_util></utilization><processes/></gpu>
      <gpu id="00000000:02:00.0"><processes>
        <process_info><pid>7</pid><type>G</type><process_name>steam</process_name><used_memory>[N/A]</used_memory></process_info>
      </processes></gpu>
    </nvidia_smi_log>`;
    const gpus = parseNvidiaSmiXml(xml);
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1]);
    expect(gpus[0]).toEqual({ index: 0, utilPct: null, processes: [] });
    expect(gpus[1]!.utilPct).toBeNull();
    expect(gpus[1]!.processes).toEqual([{ pid: 7, type: 'G', name: 'steam', usedMib: null }]);
  });

  it('gives [] for no GPUs, an error text or garbage, and skips odd fields without failing', () => {
    expect(parseNvidiaSmiXml('')).toEqual([]);
    expect(parseNvidiaSmiXml('No devices were found')).toEqual([]);
    expect(parseNvidiaSmiXml('<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>')).toEqual(
      [],
    );
    const odd = parseNvidiaSmiXml(
      '<gpu><processes><process_info><pid>x</pid><used_memory>lots</used_memory></process_info></processes></gpu>',
    );
    expect(odd[0]!.processes).toEqual([{ pid: null, type: '', name: '', usedMib: null }]);
  });

  it('decodes named and numeric entities and leaves unknown ones', () => {
    expect(decodeEntities('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233; &#x263A; &bogus;')).toBe(
      'a & b <c> "d" \'e\' é ☺ &bogus;',
    );
  });
});
