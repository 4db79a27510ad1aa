import { render } from 'preact';
import { OptionsView } from '../../components/OptionsView';
import { PRESETS } from '../../model/presets';
import { TEMPLATES } from '../../model/templates';
import { SITES } from '../../sites';
import '../../assets/pages.css';

render(
  <OptionsView presets={PRESETS} templates={Object.values(TEMPLATES)} sites={SITES.filter((site) => site.id !== 'demo').map(({ id, name }) => ({ id, name }))} />,
  document.getElementById('app')!,
);
