import { render } from 'preact';
import { OptionsView } from '../../components/OptionsView';
import { presetFromSettings } from '../../model/config';
import { PRESETS } from '../../model/presets';
import { insecureKeyWarning } from '../../model/remote-engine';
import { TEMPLATES } from '../../model/templates';
import { SITES } from '../../sites';
import '../../assets/pages.css';

render(
  <OptionsView presets={PRESETS} templates={Object.values(TEMPLATES)} sites={SITES.filter((site) => site.id !== 'demo').map(({ id, name }) => ({ id, name }))}
    presetFromSettings={presetFromSettings}
    insecureKeyWarning={insecureKeyWarning}
  />,
  document.getElementById('app')!,
);
