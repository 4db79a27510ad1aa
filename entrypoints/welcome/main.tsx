import { render } from 'preact';
import { WelcomeView } from '../../components/WelcomeView';
import { presetFromSettings } from '../../model/config';
import '../../assets/pages.css';

render(<WelcomeView describeModel={presetFromSettings} />, document.getElementById('app')!);
