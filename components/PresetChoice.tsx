import type { ModelPreset } from '../model/presets';
import { formatBytes } from './Panel';

/** What choosing a preset costs, in one sentence: download, what is kept, conversion time, licence. */
export function presetCost(preset: ModelPreset): string {
  const size = formatBytes(preset.downloadBytes);
  const cost = preset.convert
    ? `About ${size} to download once and convert in your browser${preset.diskBytes ? ` (${formatBytes(preset.diskBytes)} kept)` : ''}${preset.conversionTime ? `, ${preset.conversionTime}` : ''}`
    : `About ${size} to download`;
  return `${cost}, licence ${preset.licence}.`;
}

/** One model preset as a radio card (options and welcome pages): trained correctors are badged. */
export function PresetChoice(props: { preset: ModelPreset; checked: boolean; onChoose: () => void; group: string }) {
  const { preset } = props;
  return (
    <label class="rl-choice" data-preset={preset.id}>
      <input type="radio" name={props.group} value={preset.id} checked={props.checked} onChange={props.onChoose} />
      <span>
        <strong>{preset.name}</strong>
        {preset.kind === 'trained' && <span class="rl-badge">trained corrector</span>}
      </span>
      <span class="rl-hint">
        {preset.summary} {presetCost(preset)}
        {preset.caveat && <em> {preset.caveat}</em>}
      </span>
    </label>
  );
}
