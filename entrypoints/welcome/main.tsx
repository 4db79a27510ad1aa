import { render } from 'preact';
import { WelcomeView } from '../../components/WelcomeView';
import { PRESETS } from '../../model/presets';
import '../../assets/pages.css';

render(<WelcomeView presets={PRESETS} />, document.getElementById('app')!);
